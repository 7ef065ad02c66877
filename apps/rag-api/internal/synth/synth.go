// Package synth makes corpora for benchmarks: chunks of ~120 words drawn
// Zipf-like from a mixed Korean/English vocabulary, so posting-list lengths
// and query costs look like real text, grouped four chunks to a file with a
// third of the files restricted to one of seven groups.
package synth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/index"
	"github.com/unsilo/unsilo/apps/rag-api/search"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

// ChunksPerFile is how many chunks each synthetic file has.
const ChunksPerFile = 4

// Corpus returns n chunks (in files of ChunksPerFile) and 200 queries.
func Corpus(n int) ([]*doc.Chunk, []string) {
	r := rand.New(rand.NewPCG(1, 2))
	syll := []rune("가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초코토포호구누두루무부수우주추")
	vocab := make([]string, 20000)
	for i := range vocab {
		if i%2 == 0 {
			l := 2 + r.IntN(3)
			var b strings.Builder
			for j := 0; j < l; j++ {
				b.WriteRune(syll[r.IntN(len(syll))])
			}
			vocab[i] = b.String() + []string{"", "를", "는", "에서", "이다"}[r.IntN(5)]
		} else {
			vocab[i] = fmt.Sprintf("term%dx", i)
		}
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	chunks := make([]*doc.Chunk, n)
	for i := range chunks {
		words := make([]string, 120)
		for j := range words {
			words[j] = vocab[zipf.Uint64()]
		}
		f := i / ChunksPerFile
		public := f%3 != 0
		var groups []string
		if !public {
			groups = []string{fmt.Sprintf("g%d", f%7)}
		}
		src := fmt.Sprintf("file:///docs/%06d.md", f)
		chunks[i] = &doc.Chunk{ID: doc.ID(src, i%ChunksPerFile), Source: src, Title: words[0] + " " + words[1],
			Text: strings.Join(words, " "), Public: public, Groups: groups}
	}
	queries := make([]string, 200)
	for i := range queries {
		q := make([]string, 3+r.IntN(4))
		for j := range q {
			q[j] = vocab[zipf.Uint64()%5000]
		}
		queries[i] = strings.Join(q, " ")
	}
	return chunks, queries
}

// BuildIndex writes a persisted index of n synthetic chunks at path the way
// ingest does: commits of 500 files, then one compaction.
func BuildIndex(path string, n int) (err error) {
	chunks, _ := Corpus(n)
	an, _ := search.NewAnalyzer(search.DefaultAnalyzer)
	ix, err := index.Open(path, an, index.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ix.Close()) }()
	var writes []store.Write
	for i := 0; i < len(chunks); i += ChunksPerFile {
		cs := chunks[i:min(i+ChunksPerFile, len(chunks))]
		c := cs[0]
		writes = append(writes, store.Write{Source: c.Source, Chunks: cs,
			Record: &store.FileRecord{Hash: strconv.Itoa(i), Title: c.Title, Public: c.Public, Groups: c.Groups}})
		if len(writes) == 500 {
			if err := ix.Commit(writes); err != nil {
				return err
			}
			writes = nil
		}
	}
	if err := ix.Commit(writes); err != nil {
		return err
	}
	return ix.Compact()
}
