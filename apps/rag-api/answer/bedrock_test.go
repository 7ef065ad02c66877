package answer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// fakeBedrock speaks ConverseStream's wire format: an
// application/vnd.amazon.eventstream body of event messages, encoded with the
// SDK's own eventstream encoder so the real client decodes it.
func fakeBedrock(t *testing.T, got *map[string]any, events [][2]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/converse-stream") || strings.HasPrefix(r.URL.Path, "/nope") || !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			w.Header().Set("X-Amzn-Errortype", "ValidationException")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"message":"unexpected request `+r.URL.Path+`"}`)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(got)
		(*got)["path"] = r.URL.Path
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		enc := eventstream.NewEncoder()
		var buf bytes.Buffer
		for _, e := range events {
			msg := eventstream.Message{Payload: []byte(e[1])}
			msg.Headers.Set(":message-type", eventstream.StringValue("event"))
			msg.Headers.Set(":event-type", eventstream.StringValue(e[0]))
			msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
			if err := enc.Encode(&buf, msg); err != nil {
				t.Error(err)
			}
		}
		_, _ = w.Write(buf.Bytes())
	}))
}

func bedrockClient(url string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:       "ap-northeast-2",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
}

func TestBedrockConverseStream(t *testing.T) {
	got := map[string]any{}
	ts := fakeBedrock(t, &got, [][2]string{
		{"messageStart", `{"role":"assistant"}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"연차는 15일입니다"}}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":" [1]"}}`},
		{"contentBlockStop", `{"contentBlockIndex":0}`},
		{"messageStop", `{"stopReason":"end_turn"}`},
	})
	defer ts.Close()
	b := Bedrock{Client: bedrockClient(ts.URL), ModelID: "apac.anthropic.claude-3-haiku-20240307-v1:0", GuardrailID: "gr-123", GuardrailVersion: "2"}
	var out strings.Builder
	err := b.Answer(context.Background(), Question{Text: "연차는 며칠?"}, []*doc.Chunk{{Title: "휴가", Text: "연차는 15일"}}, func(s string) error { out.WriteString(s); return nil })
	if err != nil || out.String() != "연차는 15일입니다 [1]" {
		t.Fatalf("%q %v", out.String(), err)
	}
	gc, _ := got["guardrailConfig"].(map[string]any)
	if gc["guardrailIdentifier"] != "gr-123" || gc["guardrailVersion"] != "2" {
		t.Errorf("guardrail not sent: %v", got["guardrailConfig"])
	}
	if !strings.Contains(got["path"].(string), "claude-3-haiku") {
		t.Errorf("model id not in path: %v", got["path"])
	}
	sys, _ := json.Marshal(got["system"])
	msgs, _ := json.Marshal(got["messages"])
	if !strings.Contains(string(sys), "data") || !strings.Contains(string(msgs), `\u003cpassage id=\"1\"`) && !strings.Contains(string(msgs), `<passage id=\"1\"`) {
		t.Errorf("prompt: %s %s", sys, msgs)
	}
}

func TestBedrockErrors(t *testing.T) {
	ts := fakeBedrock(t, &map[string]any{}, nil)
	defer ts.Close()
	// A model id the fake does not route: the SDK turns the 400 into a ValidationException.
	b := Bedrock{Client: bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL + "/nope"),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}), ModelID: "m"}
	err := b.Answer(context.Background(), Question{Text: "q"}, []*doc.Chunk{{Text: "x"}}, func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "bedrock") || !strings.Contains(err.Error(), "unexpected request") {
		t.Fatalf("err %v", err)
	}
}
