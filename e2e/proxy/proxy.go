package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Proxy routes CONNECT requests: a served host gets TLS from the CA and its
// handler; a tunnelled host:port is spliced to a local address; anything
// else is refused, so a test that needs the real internet fails loudly.
type Proxy struct {
	ca  *CA
	log *slog.Logger

	mu      sync.RWMutex
	sites   map[string]http.Handler
	tunnels map[string]string

	ln    net.Listener
	outer *http.Server
	inner *http.Server
	conns *connListener
}

// New makes a proxy that issues certificates from ca.
func New(ca *CA, log *slog.Logger) *Proxy {
	return &Proxy{ca: ca, log: log, sites: map[string]http.Handler{}, tunnels: map[string]string{}}
}

// Serve answers https://host (any port) with h.
func (p *Proxy) Serve(host string, h http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sites[host] = h
}

// Tunnel splices CONNECT hostport to the local address to.
func (p *Proxy) Tunnel(hostport, to string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tunnels[hostport] = to
}

// Start listens on a free loopback port.
func (p *Proxy) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot listen for the e2e proxy: %w", err)
	}
	p.ln = ln
	p.conns = newConnListener(ln.Addr())
	p.inner = &http.Server{Handler: http.HandlerFunc(p.site), ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)}
	p.outer = &http.Server{Handler: http.HandlerFunc(p.route), ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)}
	go func() { _ = p.inner.Serve(p.conns) }()
	go func() { _ = p.outer.Serve(ln) }()
	return nil
}

// URL is the proxy's address, for HTTPS_PROXY.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Env is what a process needs to reach the e2e network through the proxy
// while talking to loopback (the API server) directly.
func (p *Proxy) Env() []string {
	u := p.URL()
	return []string{"HTTPS_PROXY=" + u, "https_proxy=" + u, "HTTP_PROXY=" + u, "http_proxy=" + u,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"}
}

// Close stops serving.
func (p *Proxy) Close() error {
	ctx := context.Background()
	return errors.Join(p.outer.Shutdown(ctx), p.inner.Shutdown(ctx))
}

func (p *Proxy) route(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		// A plain-HTTP proxy request (http://host/...): same sites table.
		p.site(w, r)
		return
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		http.Error(w, "CONNECT wants host:port, got "+r.Host, http.StatusBadRequest)
		return
	}
	p.mu.RLock()
	to, tunnel := p.tunnels[r.Host]
	_, site := p.sites[host]
	p.mu.RUnlock()
	if !tunnel && !site {
		p.log.Warn("refused: not on the e2e network", "host", r.Host)
		http.Error(w, fmt.Sprintf("e2e network: %s is not served here (offline test)", r.Host), http.StatusBadGateway)
		return
	}
	var upstream net.Conn
	if tunnel {
		if upstream, err = net.Dial("tcp", to); err != nil {
			http.Error(w, fmt.Sprintf("e2e network: %s -> %s: %v", r.Host, to, err), http.StatusBadGateway)
			return
		}
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_ = conn.Close() // the client has gone; nobody is left to tell
		return
	}
	if tunnel {
		go splice(conn, upstream)
		return
	}
	tc := tls.Server(conn, &tls.Config{
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			if name == "" {
				name = host
			}
			return p.ca.Leaf(name)
		},
	})
	p.conns.push(tc)
}

// site serves a request that arrived over a served host's TLS.
func (p *Proxy) site(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	p.mu.RLock()
	h, ok := p.sites[strings.ToLower(host)]
	p.mu.RUnlock()
	if !ok {
		http.Error(w, fmt.Sprintf("e2e network: %s is not served here (offline test)", r.Host), http.StatusBadGateway)
		return
	}
	h.ServeHTTP(w, r)
}

func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if c, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = c.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	// Both directions are done; a close error has no one to go to.
	_ = a.Close()
	_ = b.Close()
}

// connListener hands hijacked TLS connections to the inner HTTP server.
type connListener struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.closed:
		_ = c.Close() // the proxy is shutting down
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
