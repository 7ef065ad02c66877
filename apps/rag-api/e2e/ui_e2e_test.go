//go:build e2e

// Package e2e drives rag-api's web UI in a real headless Chromium: the binary
// is built from the main module, serves the shipped sample corpus, and the
// test checks what a user sees, including screenshots.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds rag-api from the main module once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		repo, _ := filepath.Abs("../../..")
		dir, err := os.MkdirTemp("", "rag-api-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rag-api")
		build := exec.Command("go", "build", "-o", binPath, "./apps/rag-api")
		build.Dir = repo
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func corpus() string {
	repo, _ := filepath.Abs("../../..")
	return filepath.Join(repo, "apps/rag-api/testdata/corpus")
}

// startServer runs `rag-api serve` on a free port with extra flags and
// returns its URL once it listens.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--index", filepath.Join(t.TempDir(), "ix.db"),
		"--ingest", corpus(), "--pdf-cache-dir", ""}, args...)
	cmd := exec.Command(binary(t), all...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "rag-api listening on "); ok {
				urlCh <- u
			}
		}
	}()
	select {
	case u := <-urlCh:
		return u
	case <-time.After(90 * time.Second):
		t.Fatal("server did not report its address")
	}
	return ""
}

func browser(t *testing.T) context.Context {
	t.Helper()
	chrome := os.Getenv("CHROMIUM")
	if chrome == "" {
		chrome = "/usr/bin/chromium"
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profileDir(t)), chromedp.WindowSize(1200, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// checkScreenshot asserts the PNG is a real rendering: decodable, not one flat colour.
func checkScreenshot(t *testing.T, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	colors := map[[3]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 7 {
		for x := r.Min.X; x < r.Max.X; x += 7 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			colors[[3]uint32{cr >> 8, cg >> 8, cb >> 8}] = true
		}
	}
	if len(colors) < 8 {
		t.Errorf("%s looks blank: %d distinct colours", name, len(colors))
	}
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
}

func TestAskInBrowser(t *testing.T) {
	feedback := filepath.Join(t.TempDir(), "feedback.jsonl")
	url := startServer(t, "--feedback-file", feedback)
	ctx := browser(t)
	var answer, sourcesText, activeID, rewritten, previewHit, thanks string
	var nSources, nTurns int
	var shot []byte
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.SetValue("#lang", "ko", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("lang").dispatchEvent(new Event("change"))`, nil),
		chromedp.SendKeys("#question", "휴가를 신청하려면 어떻게 하나요?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.turn[data-done="true"]`, chromedp.ByQuery),
		chromedp.Text(".turn .answer", &answer, chromedp.ByQuery),
		chromedp.Text(".turn .sources", &sourcesText, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll(".turn .sources li").length`, &nSources),
		chromedp.Click(".turn .answer a.cite", chromedp.ByQuery),
		chromedp.WaitVisible(".turn .sources li.active", chromedp.ByQuery),
		chromedp.AttributeValue(".turn .sources li.active", "data-n", &activeID, nil, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, "팀장의 승인") || !strings.Contains(answer, "[1]") {
		t.Errorf("answer %q", answer)
	}
	if nSources == 0 || !strings.Contains(sourcesText, "휴가 규정") || strings.Contains(sourcesText, "급여") {
		t.Errorf("sources (%d): %q", nSources, sourcesText)
	}
	if activeID == "" {
		t.Error("citation click did not highlight a source")
	}
	checkScreenshot(t, "answer.png", shot)

	// The source preview shows the passage in its document.
	err = chromedp.Run(ctx,
		chromedp.Click(".turn .sources li .preview-link", chromedp.ByQuery),
		chromedp.WaitVisible("#preview-body mark.hit", chromedp.ByQuery),
		chromedp.Text("#preview-body mark.hit", &previewHit, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100),
		chromedp.Click("#preview-close", chromedp.ByQuery),
		chromedp.WaitNotVisible("#preview", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(previewHit, "팀장의 승인") {
		t.Errorf("preview highlights %q", previewHit)
	}
	checkScreenshot(t, "preview.png", shot)

	// Feedback reaches the server.
	err = chromedp.Run(ctx,
		chromedp.SendKeys(".turn .feedback .comment", "정확해요", chromedp.ByQuery),
		chromedp.Click(".turn .feedback .up", chromedp.ByQuery),
		chromedp.WaitVisible(".turn .feedback .thanks", chromedp.ByQuery),
		chromedp.Text(".turn .feedback .thanks", &thanks, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := os.ReadFile(feedback)
	if !strings.Contains(string(fb), `"rating":"up"`) || !strings.Contains(string(fb), "정확해요") || !strings.Contains(string(fb), "leave.md#") {
		t.Errorf("feedback file: %s (shown %q)", fb, thanks)
	}

	// A follow-up is answered in the conversation, with the query searched shown.
	err = chromedp.Run(ctx,
		chromedp.SendKeys("#question", "그럼 쓰지 않은 건 이월되나요?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.turn:nth-of-type(2)[data-done="true"]`, chromedp.ByQuery),
		chromedp.Text(".turn:nth-of-type(2) .answer", &answer, chromedp.ByQuery),
		chromedp.Text(".turn:nth-of-type(2) .rewritten", &rewritten, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll(".turn").length`, &nTurns),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if nTurns != 2 || !strings.Contains(answer, "이월되지 않는다") || !strings.Contains(rewritten, "휴가를 신청하려면") {
		t.Errorf("follow-up: %d turns, answer %q, rewritten %q", nTurns, answer, rewritten)
	}
	checkScreenshot(t, "conversation.png", shot)

	// A server-side rejection is shown plainly.
	var errText string
	var errVisible bool
	err = chromedp.Run(ctx,
		chromedp.RemoveAttribute("#question", "maxlength", chromedp.ByQuery),
		chromedp.SetValue("#question", strings.Repeat("가", 2100), chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible("#error", chromedp.ByQuery),
		chromedp.Text("#error", &errText, chromedp.ByQuery),
		chromedp.Evaluate(`!document.getElementById("error").hidden`, &errVisible),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !errVisible || !strings.Contains(errText, "limit is 2000") {
		t.Errorf("error shown: %v %q", errVisible, errText)
	}
	checkScreenshot(t, "error.png", shot)

	// A new conversation in English.
	var button string
	err = chromedp.Run(ctx,
		chromedp.Click("#reset", chromedp.ByQuery),
		chromedp.SetValue("#lang", "en", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("lang").dispatchEvent(new Event("change"))`, nil),
		chromedp.SetValue("#question", "How long are backups kept? What if the VPN tunnel drops?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(`.turn[data-done="true"]`, chromedp.ByQuery),
		chromedp.Text(".turn .answer", &answer, chromedp.ByQuery),
		chromedp.Text("#submit", &button, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll(".turn").length`, &nTurns),
	)
	if err != nil {
		t.Fatal(err)
	}
	if nTurns != 1 || !strings.Contains(answer, "restart the client") || button != "Ask" {
		t.Errorf("english answer %q, %d turns, button %q", answer, nTurns, button)
	}
}

// slowModel is an OpenAI-compatible endpoint that sends one piece of its
// answer and then waits: the test stops it from the browser and learns
// whether the server passed the cancellation on.
func slowModel(t *testing.T) (string, <-chan struct{}) {
	cancelled := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"choices":[{"delta":{"content":"VPN 클라이언트를 재시작하세요 [1]"}}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			cancelled <- struct{}{}
		case <-time.After(60 * time.Second):
			fmt.Fprint(w, "data: [DONE]\n\n")
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/v1", cancelled
}

// TestStopButton: stopping an answer mid-stream keeps what arrived, marks
// the turn stopped, and the server cancels the model call.
func TestStopButton(t *testing.T) {
	model, cancelled := slowModel(t)
	url := startServer(t, "--generator", "openai", "--openai-base-url", model, "--openai-model", "slow")
	ctx := browser(t)
	var answer string
	var stopVisible bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
		chromedp.SetValue("#lang", "ko", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("lang").dispatchEvent(new Event("change"))`, nil),
		chromedp.SendKeys("#question", "VPN 접속이 끊기면 어떻게 하나요?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(".turn .answer a.cite", chromedp.ByQuery),
		chromedp.Click("#stop", chromedp.ByQuery),
		chromedp.WaitVisible(`.turn[data-done="stopped"]`, chromedp.ByQuery),
		chromedp.Text(".turn .answer", &answer, chromedp.ByQuery),
		chromedp.Evaluate(`!document.getElementById("stop").hidden`, &stopVisible),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, "재시작하세요") || !strings.Contains(answer, "중지됨") || stopVisible {
		t.Errorf("stopped answer %q, stop button still visible: %v", answer, stopVisible)
	}
	select {
	case <-cancelled:
	case <-time.After(30 * time.Second):
		t.Fatal("the model call was not cancelled when the user stopped")
	}
}

// profileDir is Chromium's profile, removed after the browser is gone.
// Not t.TempDir: Chromium's helper processes can still be writing to it for
// a moment after the browser exits, and t.TempDir fails the test when its
// removal races them.
func profileDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rag-api-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // helpers exiting; not test synchronization
		}
		t.Logf("leaving Chromium profile %s: %v", dir, err)
	})
	return dir
}
