package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// conn is one sender's keep-alive HTTP/1.1 connection, written the way
// wrk writes: the request line, headers and body in one buffer and one
// write(2), the response read with net/http's own parser. Go's Transport
// would add a read and a write goroutine per connection and a channel
// hand-off per request, about as much CPU as the bridge spends receiving
// the webhook; on 2 shared cores that would be taken from the bridge.
// The bridge sees the same bytes either way.
type conn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	buf  []byte
}

// header is one request header line.
type header struct{ name, value string }

// do POSTs body to path and returns the status, draining the response so
// the connection can be reused. A connection the server closed (or one
// that failed) is redialled on the next call; the error is the caller's
// to count, as a user's client would see it.
func (k *conn) do(ctx context.Context, path string, hdrs []header, body []byte) (int, error) {
	if k.c == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", k.addr)
		if err != nil {
			return 0, fmt.Errorf("dial %s: %w", k.addr, err)
		}
		k.c, k.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	b := k.buf[:0]
	b = append(b, "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, k.addr...)
	b = append(b, "\r\nUser-Agent: alert-bridge-load\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	for _, h := range hdrs {
		b = append(append(append(append(b, "\r\n"...), h.name...), ": "...), h.value...)
	}
	b = append(append(b, "\r\n\r\n"...), body...)
	k.buf = b
	if dl, ok := ctx.Deadline(); ok {
		_ = k.c.SetDeadline(dl)
	} else {
		_ = k.c.SetDeadline(time.Now().Add(time.Minute))
	}
	_, werr := k.c.Write(b)
	// A server refusing a request (413, 503) may answer and close before
	// reading all of it: its answer, not the broken write, is the result.
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.close()
		if werr != nil {
			return 0, fmt.Errorf("write request: %w", werr)
		}
		return 0, fmt.Errorf("read response: %w", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		k.close()
		return 0, fmt.Errorf("read response body: %w", err)
	}
	if resp.Close || werr != nil {
		k.close()
	}
	return resp.StatusCode, nil
}

func (k *conn) close() {
	if k.c != nil {
		_ = k.c.Close() // a connection being dropped: nothing to do about its error
		k.c, k.br = nil, nil
	}
}
