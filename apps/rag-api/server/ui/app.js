"use strict";
const T = {
  ko: { ask: "질문하기", answer: "답변", sources: "출처", page: "쪽", empty: "질문을 입력하세요.", failed: "오류", tagline: "사내 문서에 질문하세요", thinking: "답변을 찾는 중…" },
  en: { ask: "Ask", answer: "Answer", sources: "Sources", page: "page", empty: "Please type a question.", failed: "Error", tagline: "Ask your company's documents", thinking: "Looking for an answer…" },
};
const $ = (id) => document.getElementById(id);
let lang = (navigator.language || "ko").startsWith("ko") ? "ko" : "en";
function applyLang() {
  $("lang").value = lang;
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = T[lang][el.dataset.i18n]; });
}
$("lang").addEventListener("change", (e) => { lang = e.target.value; applyLang(); });
applyLang();

function showError(msg) { const e = $("error"); e.textContent = T[lang].failed + ": " + msg; e.hidden = false; }

function renderSources(sources) {
  const ol = $("sources");
  ol.innerHTML = "";
  for (const s of sources) {
    const li = document.createElement("li");
    li.id = "source-" + s.n;
    const a = document.createElement("a");
    a.href = s.source.startsWith("http") ? s.source : "#source-" + s.n;
    a.textContent = s.title || s.source;
    a.className = "source-link";
    if (s.source.startsWith("http")) a.target = "_blank";
    li.appendChild(a);
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = [s.heading, s.page ? T[lang].page + " " + s.page : "", s.source].filter(Boolean).join(" · ");
    li.appendChild(meta);
    const d = document.createElement("details");
    const sum = document.createElement("summary");
    sum.textContent = (s.text || "").slice(0, 80) + "…";
    d.appendChild(sum);
    d.appendChild(document.createTextNode(s.text || ""));
    li.appendChild(d);
    ol.appendChild(li);
  }
}

// Render answer text with [n] turned into links to the numbered source.
function renderAnswer(text) {
  const box = $("answer");
  box.innerHTML = "";
  for (const part of text.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    if (m && document.getElementById("source-" + m[1])) {
      const a = document.createElement("a");
      a.href = "#source-" + m[1];
      a.className = "cite";
      a.textContent = part;
      a.addEventListener("click", () => {
        document.querySelectorAll("#sources li").forEach((li) => li.classList.remove("active"));
        document.getElementById("source-" + m[1]).classList.add("active");
      });
      box.appendChild(a);
    } else {
      box.appendChild(document.createTextNode(part));
    }
  }
}

async function ask(question) {
  const resp = await fetch("v1/ask", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
    body: JSON.stringify({ question, stream: true }),
  });
  if (!resp.ok) {
    let msg = resp.status + " " + resp.statusText;
    try { msg = (await resp.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = "", answer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      const v = data ? JSON.parse(data) : null;
      if (event === "sources") renderSources(v);
      else if (event === "delta") { answer += v.text; renderAnswer(answer); }
      else if (event === "error") throw new Error(v.error);
    }
  }
  $("answer-box").dataset.done = "true";
}

$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  $("error").hidden = true;
  if (!q) { showError(T[lang].empty); return; }
  $("submit").disabled = true;
  $("answer-box").hidden = false;
  delete $("answer-box").dataset.done;
  $("answer").textContent = T[lang].thinking;
  $("sources").innerHTML = "";
  try { await ask(q); } catch (err) { $("answer-box").hidden = true; showError(err.message); }
  finally { $("submit").disabled = false; }
});
