// Package intake is the HTTP intake for Fluent Bit's http output: each
// request body is written to an on-disk spool and fsynced before the 200,
// batched in memory, and flushed to the Parquet lake by size or age. The
// spool is replayed on start, so an acknowledged record survives a crash
// (at-least-once); a batch manifest makes the retry of an interrupted flush
// rewrite the same objects instead of adding duplicates.
package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// spool is a directory of request segments (<seq>.req) and batch
// manifests (batch-<id>.json).
type spool struct {
	dir string
	seq uint64
}

func openSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create spool: %w", err)
	}
	sp := &spool{dir: dir}
	// leftovers of an interrupted write are not acknowledged data
	tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	for _, t := range tmps {
		os.Remove(t)
	}
	return sp, nil
}

// list returns segment and manifest names, sorted.
func (sp *spool) list() (segments, manifests []string, err error) {
	ents, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read spool: %w", err)
	}
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasSuffix(n, ".req"):
			segments = append(segments, n)
		case strings.HasPrefix(n, "batch-") && strings.HasSuffix(n, ".json"):
			manifests = append(manifests, n)
		}
	}
	sort.Strings(segments)
	sort.Strings(manifests)
	return segments, manifests, nil
}

// writeDurable writes name atomically and durably: temp file, fsync,
// rename, fsync of the directory. A failed write removes its temp file, so
// a full disk leaves nothing behind that would keep it full.
func (sp *spool) writeDurable(name string, data []byte) (err error) {
	tmp := filepath.Join(sp.dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("spool create: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("spool write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool close: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(sp.dir, name)); err != nil {
		return fmt.Errorf("spool rename: %w", err)
	}
	return sp.syncDir()
}

func (sp *spool) syncDir() error {
	d, err := os.Open(sp.dir)
	if err != nil {
		return fmt.Errorf("spool dir: %w", err)
	}
	defer func() { _ = d.Close() }() // a read-only handle: the fsync is what matters
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool dir fsync: %w", err)
	}
	return nil
}

// append stores a request body durably and returns its segment name:
// <unix nanoseconds>-<sequence>.req, unique across restarts (batch ids hash
// the names, so a later identical body never reuses an earlier object) and
// sorting in arrival order. Callers serialise calls.
func (sp *spool) append(body []byte) (string, error) {
	sp.seq++
	name := fmt.Sprintf("%019d-%08d.req", time.Now().UnixNano(), sp.seq)
	if err := sp.writeDurable(name, body); err != nil {
		return "", err
	}
	return name, nil
}

func (sp *spool) read(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(sp.dir, name))
	if err != nil {
		return nil, fmt.Errorf("spool read: %w", err)
	}
	return b, nil
}

// batchID names a batch after its segments' names and contents.
func (sp *spool) batchID(segments []string) (string, error) {
	h := sha256.New()
	for _, s := range segments {
		b, err := sp.read(s)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", s, len(b))
		h.Write(b)
	}
	return "intake-" + hex.EncodeToString(h.Sum(nil))[:24], nil
}

type manifest struct {
	ID       string   `json:"id"`
	Segments []string `json:"segments"`
}

func (sp *spool) writeManifest(m manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return sp.writeDurable("batch-"+m.ID+".json", b)
}

func (sp *spool) readManifest(name string) (manifest, error) {
	var m manifest
	b, err := sp.read(name)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode manifest %s: %w", name, err)
	}
	return m, nil
}

// done removes a committed batch's segments, then its manifest.
func (sp *spool) done(m manifest) error {
	for _, s := range m.Segments {
		if err := os.Remove(filepath.Join(sp.dir, s)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("spool remove: %w", err)
		}
	}
	if err := sp.syncDir(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(sp.dir, "batch-"+m.ID+".json")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("spool remove manifest: %w", err)
	}
	return sp.syncDir()
}
