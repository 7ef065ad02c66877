//go:build e2e

// Package e2e drives rag-api's web UI in a real headless Chromium: the binary
// is built from the main module, serves the shipped sample corpus, and the
// test checks what a user sees, including screenshots.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func startServer(t *testing.T) string {
	t.Helper()
	repo, _ := filepath.Abs("../../..")
	bin := filepath.Join(t.TempDir(), "rag-api")
	build := exec.Command("go", "build", "-o", bin, "./apps/rag-api")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--index", filepath.Join(t.TempDir(), "ix.db"),
		"--ingest", filepath.Join(repo, "apps/rag-api/testdata/corpus"))
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
	case <-time.After(60 * time.Second):
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
	url := startServer(t)
	ctx := browser(t)
	var answer, sourcesText, activeID string
	var nSources int
	var shot []byte
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible("#question", chromedp.ByQuery),
		chromedp.SetValue("#lang", "ko", chromedp.ByQuery),
		chromedp.SendKeys("#question", "휴가를 신청하려면 어떻게 하나요?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(`#answer-box[data-done="true"]`, chromedp.ByQuery),
		chromedp.Text("#answer", &answer, chromedp.ByQuery),
		chromedp.Text("#sources", &sourcesText, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#sources li").length`, &nSources),
		chromedp.Click("#answer a.cite", chromedp.ByQuery),
		chromedp.WaitVisible("#sources li.active", chromedp.ByQuery),
		chromedp.AttributeValue("#sources li.active", "id", &activeID, nil, chromedp.ByQuery),
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
	if !strings.HasPrefix(activeID, "source-") {
		t.Errorf("citation click did not highlight a source: %q", activeID)
	}
	checkScreenshot(t, "answer.png", shot)

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

	// English question, English UI.
	err = chromedp.Run(ctx,
		chromedp.SetValue("#lang", "en", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("lang").dispatchEvent(new Event("change"))`, nil),
		chromedp.SetValue("#question", "How long are backups kept? What if the VPN tunnel drops?", chromedp.ByQuery),
		chromedp.Click("#submit", chromedp.ByQuery),
		chromedp.WaitVisible(`#answer-box[data-done="true"]`, chromedp.ByQuery),
		chromedp.Text("#answer", &answer, chromedp.ByQuery),
		chromedp.Text("#submit", &errText, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, "restart the client") || errText != "Ask" {
		t.Errorf("english answer %q, button %q", answer, errText)
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
