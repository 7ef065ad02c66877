package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wchar is the bytes this process has passed to write(2)/pwrite(2).
func wchar(t *testing.T) int64 {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no wchar in /proc/self/io")
	return 0
}

// A large body is written once: appending the next message or deleting a
// delivered one does not rewrite its neighbours. With each 1 MiB message a
// plain value of msgs (two per leaf), the same run wrote 5.4 bytes per
// body byte.
func TestLargeBodiesWrittenOnce(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "db"), Options{})
	defer s.Close()
	ctx := context.Background()
	var body int64
	before := wchar(t)
	for i := range 24 {
		n := notif(t, fmt.Sprint(i), "firing", 0, 1000)
		body += int64(len(n.Raw))
		enqueue(t, s, n)
		if i%2 == 1 { // deliver every other one: deletes between appends
			for _, l := range due(t, s, 1) {
				if err := l.Delivered(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	ratio := float64(wchar(t)-before) / float64(body)
	t.Logf("%.2f bytes written per body byte", ratio)
	if ratio > 1.2 {
		t.Fatalf("%.2f bytes written per body byte, want at most 1.2", ratio)
	}
}
