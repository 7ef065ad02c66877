package proxy

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func start(t *testing.T) (*Proxy, *http.Client) {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := New(ca, slog.New(slog.DiscardHandler))
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	u, _ := url.Parse(p.URL())
	return p, &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
}

func TestServedHostAnswersOverVerifiedTLS(t *testing.T) {
	p, c := start(t)
	p.Serve("github.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host+r.URL.Path)
	}))
	resp, err := c.Get("https://github.com/unsilo/unsilo.git/info/refs")
	if err != nil {
		t.Fatalf("a served host must answer over TLS the client verifies against the CA: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got, want := string(b), "github.com/unsilo/unsilo.git/info/refs"; got != want {
		t.Errorf("handler saw %q, want %q", got, want)
	}
}

func TestUnknownHostIsRefused(t *testing.T) {
	_, c := start(t)
	_, err := c.Get("https://example.com/")
	if err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("a host the e2e network does not serve must be refused (no silent internet), got %v", err)
	}
}

func TestTunnelSplicesToTheLocalListener(t *testing.T) {
	p, _ := start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo
	}()
	p.Tunnel("function-unsilo.crossplane-system:9443", ln.Addr().String())

	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT function-unsilo.crossplane-system:9443 HTTP/1.1\r\nHost: function-unsilo.crossplane-system:9443\r\n\r\n")
	buf := make([]byte, len("HTTP/1.1 200 Connection established\r\n\r\n"))
	if _, err := io.ReadFull(conn, buf); err != nil || !strings.HasPrefix(string(buf), "HTTP/1.1 200") {
		t.Fatalf("CONNECT to a tunnelled name: %q, %v", buf, err)
	}
	io.WriteString(conn, "ping")
	got := make([]byte, 4)
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "ping" {
		t.Errorf("bytes must pass through the tunnel unchanged (end-to-end mTLS relies on it): %q, %v", got, err)
	}
}
