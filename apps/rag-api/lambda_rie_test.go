//go:build rie

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/unsilo/unsilo/apps/rag-api/api"
)

// The Lambda mode for real: the rag-api binary runs under the AWS Lambda
// Runtime Interface Emulator (RIE_BIN, built by `make test-rag-api-lambda`),
// which implements the Runtime API the function talks to in AWS. The
// streamed mode answers a Function URL event through the Runtime API's
// streaming protocol (prelude, eight NULs, SSE body); the buffered mode
// answers an API Gateway HTTP API event. The emulator itself collects a
// streamed body before replying, so incremental delivery is shown by
// lambdaapi.TestStreamingIsIncremental.

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rag-api")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startRIE(t *testing.T, bin string, args ...string) string {
	t.Helper()
	rie := os.Getenv("RIE_BIN")
	if rie == "" {
		t.Fatal("RIE_BIN is not set: run `make test-rag-api-lambda`, which builds the emulator")
	}
	addr := freePort(t)
	cmd := exec.Command(rie, append([]string{"--runtime-api-address", freePort(t), "--runtime-interface-emulator-address", addr, bin}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_REGION=ap-northeast-2", "AWS_LAMBDA_FUNCTION_TIMEOUT=30")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator log:\n%s", logs.String())
		}
	})
	// The emulator prints nothing until the first invocation: wait for its
	// port to accept connections (bounded).
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr + "/2015-03-31/functions/function/invocations"
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator did not listen on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond) // the emulator has no readiness signal
	}
}

func invoke(t *testing.T, url string, event any) []byte {
	t.Helper()
	b, _ := json.Marshal(event)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("invoke: %d %s", resp.StatusCode, out)
	}
	return out
}

func testIndex(t *testing.T, bin string) string {
	t.Helper()
	ix := filepath.Join(t.TempDir(), "ix.db")
	if out, err := exec.Command(bin, "ingest", "--index", ix, "testdata/corpus").CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	return ix
}

func TestLambdaStreamingUnderRIE(t *testing.T) {
	bin := buildBinary(t)
	url := startRIE(t, bin, "lambda", "--invoke-mode", "stream", "--index", testIndex(t, bin))
	body := `{"question":"VPN 접속이 끊기면 어떻게 하나요?","stream":true}`
	out := invoke(t, url, events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/v1/ask", Body: body,
		Headers:        map[string]string{"content-type": "application/json", "accept": "text/event-stream"},
		RequestContext: events.LambdaFunctionURLRequestContext{DomainName: "abc.lambda-url.ap-northeast-2.on.aws", HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: "/v1/ask", SourceIP: "10.0.0.1"}},
	})
	prelude, stream, ok := bytes.Cut(out, make([]byte, 8))
	if !ok {
		t.Fatalf("no streaming prelude (JSON, 8 NUL bytes, body): %q", out)
	}
	var p struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(prelude, &p); err != nil || p.StatusCode != 200 || !strings.HasPrefix(p.Headers["Content-Type"], "text/event-stream") {
		t.Fatalf("prelude %q: %v", prelude, err)
	}
	var events []string
	var answer strings.Builder
	for _, block := range strings.Split(string(stream), "\n\n") {
		ev, data, _ := strings.Cut(block, "\ndata: ")
		ev = strings.TrimPrefix(ev, "event: ")
		if ev == "" {
			continue
		}
		events = append(events, ev)
		if ev == "delta" {
			var d map[string]string
			_ = json.Unmarshal([]byte(data), &d)
			answer.WriteString(d["text"])
		}
	}
	if len(events) < 3 || events[0] != "sources" || events[len(events)-1] != "done" || !strings.Contains(answer.String(), "재시작") {
		t.Fatalf("events %v, answer %q", events, answer.String())
	}
}

func TestLambdaBufferedUnderRIE(t *testing.T) {
	bin := buildBinary(t)
	url := startRIE(t, bin, "lambda", "--invoke-mode", "buffered", "--index", testIndex(t, bin))
	out := invoke(t, url, events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: "/v1/ask", Body: `{"question":"How long are backups kept? What if the VPN tunnel drops?"}`,
		Headers:        map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "a1b2c3.execute-api.ap-northeast-2.amazonaws.com", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/ask", SourceIP: "10.0.0.1"}},
	})
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var ar api.AskResponse
	if err := json.Unmarshal([]byte(resp.Body), &ar); err != nil || resp.StatusCode != 200 || !strings.Contains(ar.Answer, "restart the client") {
		t.Fatalf("%d %s (%v)", resp.StatusCode, resp.Body, err)
	}
	// A bad request is the API's 400 with its reason, not a Lambda error.
	out = invoke(t, url, events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/v1/ask", Body: `{"question":""}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/ask"}},
	})
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 400 || !strings.Contains(resp.Body, "question is empty") {
		t.Fatalf("bad request: %s %v", out, errors.Join(err, fmt.Errorf("status %d", resp.StatusCode)))
	}
}
