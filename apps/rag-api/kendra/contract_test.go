package kendra

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kendra"
	"github.com/aws/smithy-go/middleware"

	"github.com/unsilo/unsilo/apps/rag-api/search"
	"github.com/unsilo/unsilo/contracts/awscalls"
)

// TestAWSContract records the Kendra calls of a Korean and an English
// search into contracts/rag-api/kendra.json, which unsilo verify holds the
// KnowledgeBase's rag-api role to.
func TestAWSContract(t *testing.T) {
	var calls sync.Map
	ts := fakeKendra(t, &calls)
	defer ts.Close()
	rec := awscalls.New()
	c := kendra.New(kendra.Options{Region: "ap-northeast-1", BaseEndpoint: aws.String(ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), APIOptions: []func(*middleware.Stack) error{rec.APIOption}})
	r := &Retriever{Client: c, IndexID: "idx", QueryForKorean: true}
	for _, q := range []string{"연차는 며칠?", "leave days"} {
		if _, err := r.Search(context.Background(), search.Query{Text: q, TopK: 10, Groups: []string{"hr"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := awscalls.Golden("../../../contracts/rag-api/kendra.json", "go test ./apps/rag-api/kendra -run TestAWSContract", rec, os.Getenv("UPDATE_GOLDEN") != ""); err != nil {
		t.Error(err)
	}
}
