package kendra

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kendra"

	"github.com/unsilo/unsilo/apps/rag-api/search"
)

// fakeKendra answers the awsJson1_1 protocol Kendra speaks: the operation is
// in X-Amz-Target, request and response are JSON in the SDK's member names.
func fakeKendra(t *testing.T, calls *sync.Map) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSKendraFrontendService.")
		b, _ := io.ReadAll(r.Body)
		var in map[string]any
		_ = json.Unmarshal(b, &in)
		calls.Store(op, in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in["IndexId"] == "broken" {
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"AccessDeniedException","message":"not authorized to query index"}`)
			return
		}
		switch op {
		case "Retrieve":
			_, _ = io.WriteString(w, `{"QueryId":"q1","ResultItems":[
			 {"Id":"r1","DocumentId":"d1","DocumentTitle":"휴가 규정","Content":"연차는 매년 15일이다.","DocumentURI":"s3://docs/hr/leave.pdf",
			  "DocumentAttributes":[{"Key":"_excerpt_page_number","Value":{"LongValue":3}}],"ScoreAttributes":{"ScoreConfidence":"HIGH"}},
			 {"Id":"r2","DocumentId":"d2","DocumentTitle":"주차","Content":"방문객 주차권","DocumentURI":"s3://docs/ga/parking.md","ScoreAttributes":{"ScoreConfidence":"LOW"}}]}`)
		case "Query":
			_, _ = io.WriteString(w, `{"QueryId":"q2","ResultItems":[
			 {"Id":"x1","Type":"DOCUMENT","DocumentTitle":{"Text":"휴가 규정"},"DocumentExcerpt":{"Text":"연차는 매년 15일이다."},"DocumentURI":"s3://docs/hr/leave.pdf"},
			 {"Id":"x2","Type":"ANSWER","DocumentTitle":{"Text":"휴가 신청"},"DocumentExcerpt":{"Text":"포털에서 신청한다."},"DocumentURI":"s3://docs/hr/apply.docx","ScoreAttributes":{"ScoreConfidence":"MEDIUM"}}]}`)
		default:
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"ValidationException","message":"unknown op"}`)
		}
	}))
}

func client(url string) *kendra.Client {
	return kendra.New(kendra.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

func TestRetrieveAndQueryMerged(t *testing.T) {
	var calls sync.Map
	ts := fakeKendra(t, &calls)
	defer ts.Close()
	r := &Retriever{Client: client(ts.URL), IndexID: "idx", QueryForKorean: true}
	hits, err := r.Search(context.Background(), search.Query{Text: "연차는 며칠?", TopK: 10, UserID: "kim@unsilo.example", Groups: []string{"hr", "all"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.Chunk.Source)
	}
	// Retrieve's r1, Query's duplicate of r1 dropped, r2, then Query's x2.
	if strings.Join(got, ",") != "s3://docs/hr/leave.pdf,s3://docs/ga/parking.md,s3://docs/hr/apply.docx" || hits[0].Chunk.Page != 3 {
		t.Fatalf("hits %v page %d", got, hits[0].Chunk.Page)
	}
	for _, op := range []string{"Retrieve", "Query"} {
		v, ok := calls.Load(op)
		if !ok {
			t.Fatalf("%s not called", op)
		}
		uc, _ := v.(map[string]any)["UserContext"].(map[string]any)
		if gs, _ := json.Marshal(uc["Groups"]); string(gs) != `["hr","all"]` || uc["UserId"] != "kim@unsilo.example" {
			t.Errorf("%s UserContext: %v (want the user id and groups, for per-user and group ACLs)", op, uc)
		}
	}
	// English: Retrieve only; filters apply.
	calls = sync.Map{}
	hits, err = r.Search(context.Background(), search.Query{Text: "leave days", TopK: 10, Filter: func(src, _ string) bool { return strings.HasPrefix(src, "s3://docs/hr/") }})
	if err != nil || len(hits) != 1 {
		t.Fatalf("%v %v", hits, err)
	}
	if _, ok := calls.Load("Query"); ok {
		t.Error("Query called for an English question")
	}
}

func TestKendraError(t *testing.T) {
	var calls sync.Map
	ts := fakeKendra(t, &calls)
	defer ts.Close()
	r := &Retriever{Client: client(ts.URL), IndexID: "broken"}
	_, err := r.Search(context.Background(), search.Query{Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "not authorized") {
		t.Fatalf("err %v", err)
	}
}
