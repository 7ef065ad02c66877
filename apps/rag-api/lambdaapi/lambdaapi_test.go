package lambdaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdaurl"
)

func echo() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/search", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"body": string(b), "auth": r.Header.Get("Authorization"), "q": r.URL.Query().Get("x")})
	})
	mux.HandleFunc("GET /logo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte{0x89, 'P', 'N', 'G'})
	})
	return mux
}

func TestFunctionURLEvent(t *testing.T) {
	// A Function URL event as AWS documents it (payload format 2.0).
	raw := `{"version":"2.0","rawPath":"/v1/search","rawQueryString":"x=1","headers":{"content-type":"application/json","authorization":"Bearer t"},
	"requestContext":{"domainName":"abc.lambda-url.ap-northeast-2.on.aws","http":{"method":"POST","path":"/v1/search","sourceIp":"1.2.3.4"}},
	"body":"` + base64.StdEncoding.EncodeToString([]byte(`{"query":"휴가"}`)) + `","isBase64Encoded":true}`
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := Handler(echo())(context.Background(), ev)
	if err != nil || resp.StatusCode != 200 || resp.IsBase64Encoded {
		t.Fatalf("%+v %v", resp, err)
	}
	var got map[string]string
	_ = json.Unmarshal([]byte(resp.Body), &got)
	if got["body"] != `{"query":"휴가"}` || got["auth"] != "Bearer t" || got["q"] != "1" {
		t.Errorf("%v", got)
	}
}

func TestBinaryAndBadEvents(t *testing.T) {
	h := Handler(echo())
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/logo.png"}
	ev.RequestContext.HTTP.Method = "GET"
	resp, _ := h(context.Background(), ev)
	if !resp.IsBase64Encoded || resp.Body != base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}) {
		t.Errorf("binary: %+v", resp)
	}
	resp, _ = h(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/"})
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "payload 2.0") {
		t.Errorf("v1 event: %+v", resp)
	}
	ev.IsBase64Encoded, ev.Body = true, "!!"
	resp, _ = h(context.Background(), ev)
	if resp.StatusCode != 400 {
		t.Errorf("bad base64: %+v", resp)
	}
}

// TestStreamingIsIncremental: behind a RESPONSE_STREAM Function URL the
// handler runs under aws-lambda-go's lambdaurl adapter, whose body is a
// pipe the runtime client copies to the Runtime API as it fills. The first
// SSE event must be readable while the handler is still generating.
func TestStreamingIsIncremental(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: delta\ndata: {\"text\":\"first\"}\n\n")
		<-release // the model is still thinking
		_, _ = io.WriteString(w, "event: done\ndata: {}\n\n")
	})
	resp, err := lambdaurl.Wrap(h)(context.Background(), &events.LambdaFunctionURLRequest{
		RawPath: "/v1/ask", RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "text/event-stream" {
		t.Fatalf("prelude %+v", resp)
	}
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(resp.Body, buf, len("event: delta\n"))
	if err != nil || !strings.HasPrefix(string(buf[:n]), "event: delta") {
		t.Fatalf("first event not readable before the handler finished: %q %v", buf[:n], err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(buf[:n])+string(rest), "event: done") {
		t.Fatalf("stream %q%q", buf[:n], rest)
	}
}
