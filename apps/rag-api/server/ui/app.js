"use strict";
const T = {
  ko: { ask: "질문하기", stop: "중지", reset: "새 대화", sources: "출처", page: "쪽", empty: "질문을 입력하세요.", failed: "오류",
    tagline: "사내 문서에 질문하세요", thinking: "답변을 찾는 중…", login: "로그인", logout: "로그아웃", close: "닫기",
    preview: "문서에서 보기", stopped: "(중지됨)", rewritten: "검색한 질문: ", comment: "의견 (선택)", thanks: "의견을 보내 주셔서 감사합니다",
    loginFirst: "로그인하면 질문할 수 있습니다.", helpful: "도움이 됐어요", unhelpful: "도움이 안 됐어요" },
  en: { ask: "Ask", stop: "Stop", reset: "New conversation", sources: "Sources", page: "page", empty: "Please type a question.", failed: "Error",
    tagline: "Ask your company's documents", thinking: "Looking for an answer…", login: "Log in", logout: "Log out", close: "Close",
    preview: "Show in document", stopped: "(stopped)", rewritten: "Searched for: ", comment: "Comment (optional)", thanks: "Thanks for the feedback",
    loginFirst: "Log in to ask questions.", helpful: "Helpful", unhelpful: "Not helpful" },
};
const $ = (id) => document.getElementById(id);
let lang = (navigator.language || "ko").startsWith("ko") ? "ko" : "en";
let conversation = []; // earlier turns, sent with each question
let controller = null;   // aborts the answer being streamed
let loginRequired = false;

function applyLang() {
  $("lang").value = lang;
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = T[lang][el.dataset.i18n]; });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = T[lang][el.dataset.i18nPlaceholder]; });
}
$("lang").addEventListener("change", (e) => { lang = e.target.value; applyLang(); });
applyLang();

function showError(msg) { const e = $("error"); e.textContent = T[lang].failed + ": " + msg; e.hidden = false; }

async function api(path, opts = {}) {
  opts.headers = Object.assign({}, opts.headers || {}, Auth.headers());
  const resp = await fetch(path, opts);
  if (resp.status === 401 && loginRequired) { Auth.expired(); setLoggedIn(null); }
  if (!resp.ok) {
    let msg = resp.status + " " + resp.statusText;
    try { msg = (await resp.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  return resp;
}

function renderSources(turn, sources) {
  const ol = turn.querySelector(".sources");
  ol.innerHTML = "";
  for (const s of sources) {
    const li = document.createElement("li");
    li.dataset.n = s.n;
    li.className = "source";
    const title = document.createElement(s.source.startsWith("http") ? "a" : "span");
    title.textContent = s.title || s.source;
    title.className = "source-title";
    if (s.source.startsWith("http")) { title.href = s.source; title.target = "_blank"; title.rel = "noopener"; }
    li.appendChild(title);
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = [s.heading, s.page ? T[lang].page + " " + s.page : ""].filter(Boolean).join(" · ");
    li.appendChild(meta);
    const excerpt = document.createElement("div");
    excerpt.className = "excerpt";
    excerpt.textContent = (s.text || "").slice(0, 240) + ((s.text || "").length > 240 ? "…" : "");
    li.appendChild(excerpt);
    if (s.id) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "secondary preview-link"; b.textContent = T[lang].preview;
      b.addEventListener("click", () => openPreview(s.id));
      li.appendChild(b);
    }
    ol.appendChild(li);
  }
}

// Render answer text with [n] turned into links to the numbered source.
function renderAnswer(turn, text) {
  const box = turn.querySelector(".answer");
  box.innerHTML = "";
  for (const part of text.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    const li = m && turn.querySelector(`.sources li[data-n="${m[1]}"]`);
    if (li) {
      const a = document.createElement("a");
      a.href = "#"; a.className = "cite"; a.textContent = part;
      a.addEventListener("click", (e) => {
        e.preventDefault();
        turn.querySelectorAll(".sources li").forEach((x) => x.classList.remove("active"));
        li.classList.add("active");
        li.scrollIntoView({ block: "nearest" });
      });
      box.appendChild(a);
    } else {
      box.appendChild(document.createTextNode(part));
    }
  }
}

async function openPreview(id) {
  try {
    const p = await (await api("v1/preview?id=" + encodeURIComponent(id))).json();
    $("preview-title").textContent = p.title || p.source;
    $("preview-meta").textContent = [p.page ? T[lang].page + " " + p.page : "", p.heading, p.source].filter(Boolean).join(" · ");
    const body = $("preview-body");
    body.innerHTML = "";
    for (const part of p.parts) {
      const el = document.createElement(part.hit ? "mark" : "p");
      el.className = part.hit ? "hit" : "";
      el.textContent = part.text;
      body.appendChild(el);
    }
    $("preview").hidden = false;
    const hit = body.querySelector(".hit");
    if (hit) hit.scrollIntoView({ block: "center" });
  } catch (err) { showError(err.message); }
}
$("preview-close").addEventListener("click", () => { $("preview").hidden = true; });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("preview").hidden = true; });

function setupFeedback(turn, question, getAnswer, getSources) {
  const fb = turn.querySelector(".feedback");
  fb.hidden = false;
  const send = async (rating) => {
    try {
      await api("v1/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, answer: getAnswer(), rating, comment: fb.querySelector(".comment").value, sources: getSources() }) });
      fb.querySelectorAll("button,input").forEach((el) => { el.disabled = true; });
      fb.querySelector(".thanks").hidden = false;
      fb.dataset.sent = rating;
    } catch (err) { showError(err.message); }
  };
  fb.querySelector(".up").addEventListener("click", () => send("up"));
  fb.querySelector(".down").addEventListener("click", () => send("down"));
}

async function ask(question) {
  const turn = $("turn-template").content.firstElementChild.cloneNode(true);
  turn.querySelector(".q").textContent = question;
  turn.querySelector(".answer").textContent = T[lang].thinking;
  $("thread").appendChild(turn);
  applyLang();
  turn.scrollIntoView({ block: "end" });
  controller = new AbortController();
  let answer = "", sources = [], stopped = false;
  try {
    const resp = await api("v1/ask", {
      method: "POST", signal: controller.signal,
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ question, history: conversation, stream: true }),
    });
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
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
        if (event === "query") {
          const r = turn.querySelector(".rewritten");
          r.textContent = T[lang].rewritten + v.query; r.hidden = false;
        } else if (event === "sources") { sources = v; renderSources(turn, v); }
        else if (event === "delta") { answer += v.text; renderAnswer(turn, answer); }
        else if (event === "error") throw new Error(v.error);
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") { turn.remove(); throw err; }
    stopped = true;
    answer += (answer ? " " : "") + T[lang].stopped;
    renderAnswer(turn, answer);
  } finally {
    controller = null;
  }
  turn.dataset.done = stopped ? "stopped" : "true";
  conversation.push({ role: "user", text: question }, { role: "assistant", text: answer.slice(0, 4000) });
  conversation = conversation.slice(-20);
  const cited = () => sources.filter((s) => answer.includes("[" + s.n + "]")).map((s) => s.id).filter(Boolean);
  setupFeedback(turn, question, () => answer, cited);
}

function setBusy(busy) {
  $("submit").disabled = busy || (loginRequired && !Auth.headers().Authorization);
  $("stop").hidden = !busy;
}

$("stop").addEventListener("click", () => { if (controller) controller.abort(); });
$("reset").addEventListener("click", () => { conversation = []; $("thread").innerHTML = ""; $("error").hidden = true; $("question").focus(); });

$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  $("error").hidden = true;
  if (!q) { showError(T[lang].empty); return; }
  setBusy(true);
  try { await ask(q); $("question").value = ""; } catch (err) { showError(err.message); }
  finally { setBusy(false); }
});
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("ask").requestSubmit(); }
});

function setLoggedIn(user) {
  $("login").hidden = !!user;
  $("logout").hidden = !user;
  $("user").hidden = !user;
  $("user").textContent = user ? user.name : "";
  if (!user) { $("error").hidden = false; $("error").textContent = T[lang].loginFirst; }
  setBusy(false);
}
$("login").addEventListener("click", () => Auth.login().catch((err) => showError(err.message)));
$("logout").addEventListener("click", () => Auth.logout());

Auth.init().then((s) => {
  loginRequired = s.enabled;
  if (s.enabled) setLoggedIn(s.user);
  document.body.dataset.ready = "true";
}).catch((err) => { showError(err.message); document.body.dataset.ready = "true"; });
