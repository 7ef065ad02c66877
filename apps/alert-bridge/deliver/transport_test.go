package deliver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/unsilo/unsilo/apps/alert-bridge/loadgen"
)

// dropSecond is an HTTP/1.1 server that answers the first request on each
// connection and drops the second after reading it whole: the request
// reached the receiver, but no response came back (a proxy or n8n
// restarting under a kept-alive connection).
type dropSecond struct {
	mu   sync.Mutex
	seen map[string]int // Idempotency-Key + attempt -> requests received
	ln   net.Listener
}

func newDropSecond(t *testing.T) *dropSecond {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dropSecond{seen: map[string]int{}, ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go d.serve(c)
		}
	}()
	return d
}

func (d *dropSecond) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; ; i++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		var o Outbound
		json.NewDecoder(req.Body).Decode(&o)
		io.Copy(io.Discard, req.Body)
		d.mu.Lock()
		d.seen[fmt.Sprintf("%s#%d", req.Header.Get("Idempotency-Key"), o.Attempt)]++
		d.mu.Unlock()
		if i == 1 {
			return // read, processed, never answered
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
	}
}

// Go's transport re-sends a request that failed on a reused connection
// when it can rewind the body and the request carries Idempotency-Key;
// that second copy reached n8n as a duplicate within one attempt. The
// outbound body cannot be rewound, so every POST is one attempt of the
// deliverer's (with its own attempt number), never a silent repeat.
func TestTransportDoesNotRePOST(t *testing.T) {
	srv := newDropSecond(t)
	f := start(t, "http://"+srv.ln.Addr().String(), options{workers: 1})
	for i := range 10 {
		f.enqueue(t, loadgen.Spec{Group: fmt.Sprint("g", i)})
	}
	waitFor(t, "all delivered", func() bool { return f.st.Depth() == 0 })
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for k, n := range srv.seen {
		if n > 1 {
			t.Errorf("%s received %d times: the transport re-POSTed within one attempt", k, n)
		}
	}
	t.Logf("%d POSTs, one per attempt", len(srv.seen))
}

// countingConn counts the writes a client makes on its connections.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A small notification goes out in one write(2): headers and body
// together (each write on loopback pays the receiver's TCP path too); one
// over the transport's 4 KiB write buffer in two. The streamed form took
// four writes or more.
func TestSmallDeliveryIsOneWrite(t *testing.T) {
	for _, tc := range []struct {
		alerts    int
		maxWrites int64
	}{{1, 1}, {5, 2}} {
		t.Run(fmt.Sprintf("alerts=%d", tc.alerts), func(t *testing.T) {
			var writes atomic.Int64
			var dialer net.Dialer
			client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				return countingConn{c, &writes}, err
			}}}
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				io.WriteString(w, `{"ok":true}`)
			}))
			defer rcv.Close()
			f := start(t, rcv.URL, options{workers: 1, client: client})
			const n = 5
			for i := range n {
				f.enqueue(t, loadgen.Spec{Group: fmt.Sprint("g", i), Alerts: tc.alerts})
			}
			waitFor(t, "all delivered", func() bool { return f.st.Depth() == 0 })
			if got := writes.Load(); got > n*tc.maxWrites {
				t.Fatalf("%d writes for %d deliveries, want at most %d each", got, n, tc.maxWrites)
			}
		})
	}
}
