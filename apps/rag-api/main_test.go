package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/rag-api/server"
)

// TestIngestThenServe runs the real CLI path: ingest the shipped sample
// corpus into a bbolt file, reopen it read-only (as Lambda does) and ask.
func TestIngestThenServe(t *testing.T) {
	index := filepath.Join(t.TempDir(), "ix.db")
	cmd := ingestCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--index", index, "testdata/corpus"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"added": 5`) {
		t.Fatalf("ingest report: %s", out.String())
	}
	h, cleanup, err := buildHandler(context.Background(), serveOpts{index: index, analyzer: "stripped-bigram", readOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/v1/ask", "application/json", strings.NewReader(`{"question":"휴가를 신청하려면 어떻게 하나요?"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ar server.AskResponse
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ar.Answer, "팀장의 승인") || !strings.Contains(ar.Answer, "[1]") || !strings.HasSuffix(ar.Sources[0].Source, "hr/leave.md") || ar.Sources[0].Heading != "휴가 규정 > 휴가 신청" {
		t.Fatalf("%+v", ar)
	}
	for _, s := range ar.Sources {
		if strings.Contains(s.Source, "salary") {
			t.Fatal("HR-only document shown to an anonymous user")
		}
	}
}
