package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/store"
)

// fileState is what ingest knows about one file before deciding what to do.
type fileState struct {
	src    string
	name   string // for titles
	layers []aclLayer
	aclKey string
	aclErr error
	size   int64
	mtime  int64
	rec    store.FileRecord
	found  bool
}

// localFile ingests one local file. It returns an error only when the index
// cannot be written; everything about the file itself ends up in rep.
func (in *Ingester) localFile(ctx context.Context, path string, acl *aclResolver, b *batch, rep *Report) error {
	src := fileURI(path)
	parse, refusal := in.formatOf(path)
	if parse == nil {
		rep.skip(src, refusal, false)
		return nil
	}
	fs := fileState{src: src, name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), size: -1, mtime: -1}
	var err error
	if fs.rec, fs.found, err = in.Index.File(src); err != nil {
		return fmt.Errorf("index read: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return in.refuse(b, rep, fs, "", err.Error())
	}
	fs.size, fs.mtime = st.Size(), st.ModTime().UnixNano()
	fs.layers, fs.aclKey, fs.aclErr = acl.forFile(path)
	r := fs.rec
	if fs.found && r.Parser == in.parserKey() && r.Size == fs.size && r.ModTime == fs.mtime && r.ACLKey == fs.aclKey {
		in.unchanged(rep, fs)
		return nil
	}
	if fs.size > in.maxFileBytes() {
		return in.refuse(b, rep, fs, "", fmt.Sprintf("file is %d bytes, limit is %d", fs.size, in.maxFileBytes()))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fs.size, fs.mtime = -1, -1 // try again next pass
		return in.refuse(b, rep, fs, "", err.Error())
	}
	sum := sha256.Sum256(data)
	return in.content(ctx, b, rep, fs, hex.EncodeToString(sum[:]), parse, func() ([]byte, error) { return data, nil })
}

// unchanged reports a file that needs no work (and why, if it is refused).
func (in *Ingester) unchanged(rep *Report, fs fileState) {
	rep.Unchanged++
	if fs.rec.Skip != "" {
		rep.skip(fs.src, fs.rec.Skip, true)
	}
}

// content decides what a file's bytes (hash) mean for the index: nothing,
// new access rules on the stored chunks, or a parse.
func (in *Ingester) content(ctx context.Context, b *batch, rep *Report, fs fileState, hash string, parse parser, load func() ([]byte, error)) error {
	r := fs.rec
	sameContent := fs.found && r.Parser == in.parserKey() && r.Hash == hash
	if sameContent && r.ACLKey == fs.aclKey {
		// Only the file's timestamp moved: remember the new one so the next
		// pass does not read the file again.
		r.Size, r.ModTime = fs.size, fs.mtime
		in.unchanged(rep, fs)
		return b.add(store.Write{Source: fs.src, Record: &r, RecordOnly: true})
	}
	if fs.aclErr != nil {
		return in.refuse(b, rep, fs, hash, fs.aclErr.Error())
	}
	if sameContent && r.Skip == "" {
		// Same text, new rules: apply them to the stored chunks, no parse. A
		// file that fails to parse later can then never keep chunks readable
		// under rules that were tightened since.
		return in.reACL(b, rep, fs, hash)
	}
	data, err := load()
	if err != nil {
		fs.size, fs.mtime = -1, -1 // try again next pass
		return in.refuse(b, rep, fs, hash, err.Error())
	}
	parsed, err := parseBounded(ctx, parse, data, in.parseTimeout())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return in.refuse(b, rep, fs, hash, err.Error())
	}
	if parsed.ACLErr != nil {
		return in.refuse(b, rep, fs, hash, parsed.ACLErr.Error())
	}
	if err := checkText(parsed); err != nil {
		return in.refuse(b, rep, fs, hash, err.Error())
	}
	layers := fs.layers
	if parsed.DocACL {
		layers = append(append([]aclLayer(nil), layers...), aclLayer{origin: "the document's own metadata", groups: normGroups(parsed.Groups)})
	}
	public, groups, err := effectiveACL(layers)
	if err != nil {
		return in.refuse(b, rep, fs, hash, err.Error())
	}
	title := parsed.Title
	if title == "" {
		title = fs.name
	}
	chunks, ok := Chunk(fs.src, title, public, groups, parsed, in.maxChunks())
	if !ok {
		return in.refuse(b, rep, fs, hash, fmt.Sprintf("yields more than %d chunks (limit per file, --max-chunks-per-file)", in.maxChunks()))
	}
	rec := &store.FileRecord{Hash: hash, ACLKey: fs.aclKey, Size: fs.size, ModTime: fs.mtime, Parser: in.parserKey(),
		Title: title, Public: public, Groups: groups, DocACL: parsed.DocACL, DocGroups: normGroups(parsed.Groups),
		Pages: pages(parsed), Ingested: time.Now().UTC()}
	if fs.found && r.Skip == "" {
		rep.Updated++
	} else {
		rep.Added++
	}
	rep.Chunks += len(chunks)
	rep.Pages += rec.Pages
	return b.add(store.Write{Source: fs.src, Record: rec, Chunks: chunks})
}

// reACL rewrites the stored chunks of an unchanged file under new rules.
func (in *Ingester) reACL(b *batch, rep *Report, fs fileState, hash string) error {
	r := fs.rec
	layers := fs.layers
	if r.DocACL {
		layers = append(append([]aclLayer(nil), layers...), aclLayer{origin: "the document's own metadata", groups: r.DocGroups})
	}
	public, groups, err := effectiveACL(layers)
	if err != nil {
		return in.refuse(b, rep, fs, hash, err.Error())
	}
	chunks, err := in.Index.FileChunks(fs.src)
	if err != nil {
		return fmt.Errorf("index read: %w", err)
	}
	for _, c := range chunks {
		c.Public, c.Groups = public, groups
	}
	r.Public, r.Groups, r.ACLKey, r.Size, r.ModTime = public, groups, fs.aclKey, fs.size, fs.mtime
	rep.Updated++
	rep.Chunks += len(chunks)
	return b.add(store.Write{Source: fs.src, Record: &r, Chunks: chunks})
}

// refuse records why a file is not indexed and drops any chunks it had, so
// a file that stops parsing (or whose rules broke) stops being served.
func (in *Ingester) refuse(b *batch, rep *Report, fs fileState, hash, reason string) error {
	rep.skip(fs.src, reason, false)
	// The refusal is remembered against the file's fingerprint (size,
	// mtime, rules); a file that could not even be read has none (-1) and
	// is tried again next pass.
	rec := &store.FileRecord{Hash: hash, ACLKey: fs.aclKey, Size: fs.size, ModTime: fs.mtime, Parser: in.parserKey(),
		Skip: reason, Ingested: time.Now().UTC()}
	return b.add(store.Write{Source: fs.src, Record: rec})
}

func pages(p *Parsed) int {
	n := 0
	for _, s := range p.Sections {
		n = max(n, s.Page)
	}
	return max(n, 1)
}
