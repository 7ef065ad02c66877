package answer

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go/middleware"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/contracts/awscalls"
)

// TestAWSContract records the Bedrock call of one streamed answer with a
// guardrail into contracts/rag-api/bedrock.json, which unsilo verify holds
// the KnowledgeBase's rag-api role to.
func TestAWSContract(t *testing.T) {
	ts := fakeBedrock(t, &map[string]any{}, [][2]string{
		{"messageStart", `{"role":"assistant"}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"15"}}`},
		{"messageStop", `{"stopReason":"end_turn"}`},
	})
	defer ts.Close()
	rec := awscalls.New()
	c := bedrockruntime.New(bedrockruntime.Options{Region: "ap-northeast-1", BaseEndpoint: aws.String(ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), APIOptions: []func(*middleware.Stack) error{rec.APIOption}})
	b := Bedrock{Client: c, ModelID: "anthropic.claude-3-haiku-20240307-v1:0", GuardrailID: "gr-123", GuardrailVersion: "1"}
	if err := b.Answer(context.Background(), "연차는 며칠?", []*doc.Chunk{{Title: "휴가", Text: "연차는 15일"}}, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := awscalls.Golden("../../../contracts/rag-api/bedrock.json", "go test ./apps/rag-api/answer -run TestAWSContract", rec, os.Getenv("UPDATE_GOLDEN") != ""); err != nil {
		t.Error(err)
	}
}
