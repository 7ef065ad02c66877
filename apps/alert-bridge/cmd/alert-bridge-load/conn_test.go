package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The harness's sender speaks HTTP/1.1 as a server sees it: headers and
// body arrive intact, one connection carries many requests, and a server
// that closes (after a refusal, before reading the body) is answered with
// its status and redialled.
func TestConn(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Header().Set("Connection", "close")
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer t" || r.ContentLength != int64(len(body)) || string(body) != `{"a":1}` {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	k := &conn{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer k.close()
	hdrs := []header{{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}}
	for i := range 5 {
		if code, err := k.do(context.Background(), "/v1", hdrs, []byte(`{"a":1}`)); err != nil || code != 200 {
			t.Fatalf("request %d: %d %v", i, code, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 requests used %d connections, want 1 (keep-alive)", n)
	}
	big := make([]byte, 8<<20)
	if code, err := k.do(context.Background(), "/big", hdrs, big); err != nil || code != http.StatusRequestEntityTooLarge {
		t.Fatalf("refused request: %d %v, want 413", code, err)
	}
	if code, err := k.do(context.Background(), "/v1", hdrs, []byte(`{"a":1}`)); err != nil || code != 200 {
		t.Fatalf("after the server closed: %d %v", code, err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (redialled once after the close)", n)
	}
}
