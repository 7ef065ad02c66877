package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

// DefaultMaxFileBytes skips files larger than this before reading them.
const DefaultMaxFileBytes = 64 << 20

// Skip records a file that was not ingested and why.
type Skip struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// Report summarises one ingest run.
type Report struct {
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

// Ingester loads files into a store.
type Ingester struct {
	Store        *store.Store
	MaxFileBytes int64
	Log          *slog.Logger
	// ProgressEvery logs progress after this many files (0: every 100).
	ProgressEvery int
	// Exts restricts ingest to these extensions (".md"); empty means all supported.
	Exts []string
	// SkipDirs are directory names not descended into (hidden dirs and node_modules always are).
	SkipDirs []string
}

func (in *Ingester) wanted(p string) bool {
	if _, ok := parserFor(p); !ok {
		return false
	}
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

type parser func([]byte) (*Parsed, error)

func parserFor(path string) (parser, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return parseMarkdown, true
	case ".html", ".htm":
		return parseHTML, true
	case ".pdf":
		return parsePDF, true
	case ".docx":
		return parseDOCX, true
	case ".txt", ".text":
		return parseText, true
	}
	return nil, false
}

// safeParse runs a parser and converts a library panic into an error: one
// hostile file must never take the ingest (or the server) down.
func safeParse(p parser, b []byte) (res *Parsed, err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.Debug("parser panic", "panic", r, "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("parser failed on malformed input: %v", r)
		}
	}()
	return p(b)
}

// parseTimeout bounds one file's parse. Go cannot stop a goroutine stuck in
// a library loop (some malformed PDFs send the PDF reader into one), so the
// parse is abandoned: the file is skipped and the ingest carries on.
const parseTimeout = 30 * time.Second

func parseWithTimeout(p parser, b []byte, d time.Duration) (*Parsed, error) {
	type result struct {
		p   *Parsed
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := safeParse(p, b)
		ch <- result{r, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.p, r.err
	case <-t.C:
		return nil, fmt.Errorf("parse took longer than %s: abandoned", d)
	}
}

// Dir ingests every supported file below root. Files that were stored from
// this root before but are gone now are removed.
func (in *Ingester) Dir(ctx context.Context, root string) (Report, error) {
	start := time.Now()
	rep := Report{Skipped: []Skip{}}
	root, err := filepath.Abs(root)
	if err != nil {
		return rep, err
	}
	var paths []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{Source: p, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			if p != root && in.skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if in.wanted(p) && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("walk %s: %w", root, err)
	}
	seen := map[string]bool{}
	every := in.ProgressEvery
	if every <= 0 {
		every = 100
	}
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		src := "file://" + filepath.ToSlash(p)
		seen[src] = true
		rep.Files++
		if reason := in.file(root, p, src, &rep); reason != "" {
			rep.Skipped = append(rep.Skipped, Skip{Source: src, Reason: reason})
		}
		if (i+1)%every == 0 {
			in.logger().Info("ingest progress", "done", i+1, "total", len(paths), "chunks", rep.Chunks, "skipped", len(rep.Skipped))
		}
	}
	prefix := "file://" + filepath.ToSlash(root) + "/"
	sources, err := in.Store.Sources()
	if err != nil {
		return rep, err
	}
	for _, s := range sources {
		if strings.HasPrefix(s, prefix) && !seen[s] {
			if err := in.Store.DeleteFile(s); err != nil {
				return rep, err
			}
			rep.Removed++
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func (in *Ingester) logger() *slog.Logger {
	if in.Log != nil {
		return in.Log
	}
	return slog.Default()
}

// file ingests one file and returns a skip reason, or "" on success.
func (in *Ingester) file(root, path, src string, rep *Report) string {
	limit := in.MaxFileBytes
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if st.Size() > limit {
		return fmt.Sprintf("file is %d bytes, limit is %d", st.Size(), limit)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	_, aclBytes := aclFor(root, path, nil)
	h := sha256.New()
	h.Write(b)
	h.Write([]byte{0})
	h.Write(aclBytes)
	hash := hex.EncodeToString(h.Sum(nil))
	rec, found, err := in.Store.File(src)
	if err != nil {
		return fmt.Sprintf("index read: %v", err)
	}
	if found && rec.Hash == hash {
		rep.Unchanged++
		return ""
	}
	parse, _ := parserFor(path)
	parsed, err := parseWithTimeout(parse, b, parseTimeout)
	if err != nil {
		return err.Error()
	}
	groups, _ := aclFor(root, path, parsed.Groups)
	title := parsed.Title
	if title == "" {
		title = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	chunks := Chunk(src, title, groups, parsed)
	if len(chunks) == 0 {
		return "no text found"
	}
	if err := in.Store.PutFile(src, hash, chunks); err != nil {
		return fmt.Sprintf("index write: %v", err)
	}
	if found {
		rep.Updated++
	} else {
		rep.Added++
	}
	rep.Chunks += len(chunks)
	rep.Pages += pages(parsed)
	return ""
}

func pages(p *Parsed) int {
	n := 0
	for _, s := range p.Sections {
		if s.Page > n {
			n = s.Page
		}
	}
	if n == 0 {
		return 1
	}
	return n
}

// Chunk cuts parsed sections into passages carrying their metadata.
func Chunk(src, title string, groups []string, p *Parsed) []*doc.Chunk {
	var out []*doc.Chunk
	for _, s := range p.Sections {
		for _, piece := range splitSection(s.Text, maxChunkRunes) {
			out = append(out, &doc.Chunk{
				ID:      fmt.Sprintf("%s#%d", src, len(out)),
				Source:  src,
				Title:   title,
				Heading: s.Heading,
				Page:    s.Page,
				Text:    piece,
				Groups:  groups,
			})
		}
	}
	return out
}

// Parse is exported for fuzzing and tools: it parses b as the format of name.
func Parse(name string, b []byte) (*Parsed, error) {
	p, ok := parserFor(name)
	if !ok {
		return nil, fmt.Errorf("unsupported file type %q", filepath.Ext(name))
	}
	return safeParse(p, b)
}
