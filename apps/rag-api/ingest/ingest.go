package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

// DefaultMaxFileBytes skips files larger than this before reading them.
const DefaultMaxFileBytes = 64 << 20

// Skip records a file that was not indexed and why.
type Skip struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
	// Remembered: the file was refused before and has not changed since,
	// so it was not parsed again.
	Remembered bool `json:"remembered,omitempty"`
}

// Report summarises one ingest run.
type Report struct {
	Target    string        `json:"target"`
	Files     int           `json:"files"`
	Added     int           `json:"added"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Removed   int           `json:"removed"`
	Chunks    int           `json:"chunks"`
	Pages     int           `json:"pages"`
	Skipped   []Skip        `json:"skipped"`
	Duration  time.Duration `json:"duration_ns"`
}

// Changed reports whether the run changed the index.
func (r Report) Changed() bool { return r.Added+r.Updated+r.Removed > 0 }

func (r *Report) skip(src, reason string, remembered bool) {
	r.Skipped = append(r.Skipped, Skip{Source: src, Reason: reason, Remembered: remembered})
}

// Sink is where ingest writes: the live index (index.Index).
type Sink interface {
	File(source string) (store.FileRecord, bool, error)
	FileChunks(source string) ([]*doc.Chunk, error)
	Sources(prefix string) ([]string, error)
	Commit(writes []store.Write) error
}

// Ingester loads files into a Sink. It is not safe for concurrent use: one
// goroutine (the CLI, or the server's watcher) drives it.
type Ingester struct {
	Index        Sink
	MaxFileBytes int64
	MaxChunks    int           // per file; 0: DefaultMaxChunks
	ParseTimeout time.Duration // per file; 0: DefaultParseTimeout
	Log          *slog.Logger
	// ProgressEvery logs progress after this many files (0: every 100).
	ProgressEvery int
	// Exts restricts ingest to these extensions (".md"); empty means all supported.
	Exts []string
	// SkipDirs are directory names not descended into (hidden dirs and node_modules always are).
	SkipDirs []string
	// AllowEmpty lets a folder (or prefix) that turned up empty remove what
	// was indexed from it. Off, an empty or vanished folder is an error and
	// nothing is removed: an unmounted volume must not wipe the index.
	AllowEmpty bool
	// PDF is the PDF text engine (created on first use).
	PDF *PDFEngine
	// BatchFiles is how many changed files are committed together (0: 64).
	BatchFiles int
}

func (in *Ingester) logger() *slog.Logger {
	if in.Log != nil {
		return in.Log
	}
	return slog.Default()
}

func (in *Ingester) maxChunks() int {
	if in.MaxChunks > 0 {
		return in.MaxChunks
	}
	return DefaultMaxChunks
}

func (in *Ingester) parseTimeout() time.Duration {
	if in.ParseTimeout > 0 {
		return in.ParseTimeout
	}
	return DefaultParseTimeout
}

func (in *Ingester) maxFileBytes() int64 {
	if in.MaxFileBytes > 0 {
		return in.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

// CheckExts rejects --ext values that no parser reads.
func CheckExts(exts []string) error {
	for _, e := range exts {
		e = "." + strings.TrimPrefix(strings.ToLower(e), ".")
		ok := false
		for _, s := range supportedExts {
			ok = ok || s == e
		}
		if !ok {
			return fmt.Errorf("--ext %s: no parser for it (supported: %s)", e, strings.Join(supportedExts, ", "))
		}
	}
	return nil
}

// wanted reports whether the user's --ext filter admits path.
func (in *Ingester) wanted(p string) bool {
	if len(in.Exts) == 0 {
		return true
	}
	ext := strings.ToLower(filepath.Ext(p))
	for _, e := range in.Exts {
		if strings.EqualFold("."+strings.TrimPrefix(e, "."), ext) {
			return true
		}
	}
	return false
}

func (in *Ingester) skipDir(name string) bool {
	if strings.HasPrefix(name, ".") || name == "node_modules" {
		return true
	}
	for _, d := range in.SkipDirs {
		if d == name {
			return true
		}
	}
	return false
}

// ignored are files that are never documents: ACL rules themselves and
// hidden files.
func ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.EqualFold(filepath.Ext(name), ".acl")
}

// batch collects writes and commits them in groups.
type batch struct {
	in     *Ingester
	writes []store.Write
	chunks int
}

func (b *batch) add(w store.Write) error {
	b.writes = append(b.writes, w)
	b.chunks += len(w.Chunks)
	n := b.in.BatchFiles
	if n <= 0 {
		n = 64
	}
	if len(b.writes) >= n || b.chunks >= 20000 {
		return b.flush()
	}
	return nil
}

func (b *batch) flush() error {
	if len(b.writes) == 0 {
		return nil
	}
	err := b.in.Index.Commit(b.writes)
	b.writes, b.chunks = nil, 0
	if err != nil {
		return fmt.Errorf("index write: %w", err)
	}
	return nil
}

// Path ingests a local folder (recursively) or a single file. A folder's
// files that are gone are removed from the index; a missing path, or a
// folder that turned up empty while the index holds files from it, is an
// error that changes nothing (see AllowEmpty).
func (in *Ingester) Path(ctx context.Context, target string) (Report, error) {
	start := time.Now()
	rep := Report{Target: target, Skipped: []Skip{}}
	root, err := filepath.Abs(target)
	if err != nil {
		return rep, err
	}
	st, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return rep, fmt.Errorf("%s does not exist (volume not mounted yet?): nothing ingested, nothing removed", root)
		}
		return rep, err
	}
	b := &batch{in: in}
	acl := newACLResolver()
	if !st.IsDir() {
		rep.Files = 1
		err := in.localFile(ctx, root, acl, b, &rep)
		if ferr := b.flush(); err == nil {
			err = ferr
		}
		rep.Duration = time.Since(start)
		return rep, err
	}
	var paths []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			rep.skip(fileURI(p), "cannot read: "+err.Error(), false)
			return nil
		}
		if d.IsDir() {
			if p != root && in.skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if ignored(d.Name()) || !in.wanted(p) {
			return nil
		}
		if !d.Type().IsRegular() {
			rep.skip(fileURI(p), "not a regular file", false)
			return nil
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("walk %s: %w", root, err)
	}
	prefix := fileURI(root) + "/"
	existing, err := in.Index.Sources(prefix)
	if err != nil {
		return rep, err
	}
	if len(paths) == 0 && len(existing) > 0 && !in.AllowEmpty {
		return rep, fmt.Errorf("%s has no files to ingest but the index holds %d from it: not removing them (volume not mounted?); pass --allow-empty to remove them", root, len(existing))
	}
	seen := map[string]bool{}
	every := in.ProgressEvery
	if every <= 0 {
		every = 100
	}
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			_ = b.flush()
			return rep, err
		}
		seen[fileURI(p)] = true
		rep.Files++
		if err := in.localFile(ctx, p, acl, b, &rep); err != nil {
			_ = b.flush()
			return rep, err
		}
		if (i+1)%every == 0 {
			in.logger().Info("ingest progress", "target", target, "done", i+1, "total", len(paths), "chunks", rep.Chunks, "skipped", len(rep.Skipped))
		}
	}
	for _, s := range existing {
		if !seen[s] {
			if err := b.add(store.Write{Source: s}); err != nil {
				return rep, err
			}
			rep.Removed++
		}
	}
	err = b.flush()
	rep.Duration = time.Since(start)
	return rep, err
}

func fileURI(p string) string { return "file://" + filepath.ToSlash(p) }
