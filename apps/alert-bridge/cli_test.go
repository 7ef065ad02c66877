package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
	"github.com/unsilo/unsilo/apps/alert-bridge/store"
)

func TestDeadAndReplayCommands(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "outbox.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range []string{"a", "b", "c"} {
		n, err := payload.DecodeAlertmanager(amBody(g))
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Enqueue(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		leases, _, err := st.Due(ctx, 1)
		if err != nil || len(leases) != 1 {
			t.Fatalf("due: %v %v", leases, err)
		}
		if err := leases[0].Bury(ctx, "HTTP 500"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	// While the store is open the file is locked: the commands must say so.
	var out bytes.Buffer
	if err := run(ctx, []string{"dead", "--db", db}, &out, &out); err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Fatalf("dead on a locked file: %v", err)
	}
	st.Close()

	out.Reset()
	if err := run(ctx, []string{"dead", "--db", db}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"lastError":"HTTP 500"`); n != 3 {
		t.Fatalf("dead listed %d, want 3:\n%s", n, out.String())
	}
	if err := run(ctx, []string{"replay", "--db", db}, &out, &out); err == nil {
		t.Fatal("replay without ids or --all succeeded")
	}
	out.Reset()
	if err := run(ctx, []string{"replay", "--db", db, ids[1]}, &out, &out); err != nil || !strings.Contains(out.String(), "re-queued 1") {
		t.Fatalf("replay one: %v %s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"replay", "--db", db, "--all"}, &out, &out); err != nil || !strings.Contains(out.String(), "re-queued 2") {
		t.Fatalf("replay all: %v %s", err, out.String())
	}
	st, err = store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Depth() != 3 || st.DeadCount() != 0 {
		t.Fatalf("after replay: depth %d dead %d", st.Depth(), st.DeadCount())
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	for _, args := range [][]string{
		{"serve"},
		{"serve", "--target-url", "ftp://x"},
		{"serve", "--target-url", "http://n8n/webhook", "--rag-url", "not a url"},
		{"serve", "--target-url", "http://n8n/webhook", "--workers", "0"},
		{"serve", "--target-url", "http://n8n/webhook", "--backoff-base", "2s", "--backoff-max", "1s"},
		{"serve", "--target-url", "http://n8n/webhook", "--target-header", "novalue"},
		{"serve", "--target-url", "http://n8n/webhook", "--max-body", "100000000", "--memory-budget", "200000000"},
		{"serve", "--target-url", "http://n8n/webhook", "--outbox", "kafka"},
		{"serve", "--target-url", "http://n8n/webhook", "--outbox", "sqs"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), append(args, "--db", filepath.Join(t.TempDir(), "db"), "--addr", "127.0.0.1:0"), &out, &out); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
