// Package index keeps the on-disk store and the in-memory BM25 segments in
// step: a commit writes chunks, file records and the new segment in one
// store transaction and publishes the segment to readers only after it is
// durable. Start-up decodes the stored segments; nothing is re-analysed.
package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
	"github.com/unsilo/unsilo/apps/rag-api/search"
	"github.com/unsilo/unsilo/apps/rag-api/store"
)

// Index is the live, persisted index.
type Index struct {
	st *store.Store
	ix *search.Index
}

// Options configure Open.
type Options struct {
	ReadOnly    bool
	TitleWeight int // 0: search.DefaultTitleWeight
	Log         *slog.Logger
}

// Open opens the store at path and loads its segments.
func Open(path string, an search.Analyzer, o Options) (*Index, error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	open := store.Open
	if o.ReadOnly {
		open = store.OpenReadOnly
	}
	st, err := open(path)
	if err != nil {
		return nil, err
	}
	if st.Reset {
		log.Warn("index file held another format version: emptied, every source is ingested again", "index", path)
	}
	l := &Index{st: st, ix: search.NewIndex(an, st)}
	if o.TitleWeight > 0 {
		l.ix.SetTitleWeight(o.TitleWeight)
	}
	err = st.LoadIndex(func(manifest []byte, segment func(uint64) ([]byte, error)) error {
		if manifest == nil {
			return nil
		}
		return l.ix.Load(manifest, segment)
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("load index %s: %w (delete the file to rebuild it)", path, err), st.Close())
	}
	log.Info("index loaded", "index", path, "chunks", l.ix.Len(), "segments", l.ix.Segments(), "took", time.Since(start).Round(time.Millisecond))
	return l, nil
}

// Close closes the store.
func (l *Index) Close() error { return l.st.Close() }

// Search implements the server's Retriever.
func (l *Index) Search(ctx context.Context, q search.Query) ([]search.Hit, error) {
	return l.ix.Search(ctx, q)
}

// SetParams overrides BM25's k1 and b (evaluation).
func (l *Index) SetParams(k1, b float64) { l.ix.SetParams(k1, b) }

// SearchPRF searches with RM3 pseudo-relevance feedback.
func (l *Index) SearchPRF(ctx context.Context, q search.Query, p search.PRF) ([]search.Hit, error) {
	return l.ix.SearchPRF(ctx, q, p)
}

// Len returns the number of live chunks.
func (l *Index) Len() int { return l.ix.Len() }

// Segments returns the number of live segments.
func (l *Index) Segments() int { return l.ix.Segments() }

// File returns the stored record of source.
func (l *Index) File(source string) (store.FileRecord, bool, error) { return l.st.File(source) }

// Sources lists stored sources under prefix.
func (l *Index) Sources(prefix string) ([]string, error) { return l.st.Sources(prefix) }

// FileChunks returns the stored chunks of source.
func (l *Index) FileChunks(source string) ([]*doc.Chunk, error) { return l.st.FileChunks(source) }

// Chunk returns one stored chunk (nil if absent).
func (l *Index) Chunk(source string, ordinal int) (*doc.Chunk, error) {
	return l.st.Chunk(source, ordinal)
}

// Commit applies writes: every written source loses its old docs, indexed
// files get a new segment, and it all becomes visible at once.
func (l *Index) Commit(writes []store.Write) error {
	if len(writes) == 0 {
		return nil
	}
	b := l.ix.NewBuilder()
	remove := make([]string, 0, len(writes))
	for _, w := range writes {
		if w.RecordOnly {
			continue
		}
		remove = append(remove, w.Source)
		if w.Record == nil || w.Record.Skip != "" || len(w.Chunks) == 0 {
			continue
		}
		b.Add(search.FileDocs{Source: w.Source, Title: w.Record.Title, Public: w.Record.Public, Groups: w.Record.Groups, Chunks: w.Chunks})
	}
	err := l.ix.Update(remove, b.Segment(), func(ch search.Change) error {
		sc, err := storeChange(ch)
		if err != nil {
			return err
		}
		return l.st.Commit(writes, sc)
	})
	if err != nil {
		return err
	}
	_, err = l.ix.Compact(l.persistSegments, false)
	return err
}

func (l *Index) persistSegments(ch search.Change) error {
	sc, err := storeChange(ch)
	if err != nil {
		return err
	}
	return l.st.Commit(nil, sc)
}

// Compact merges every segment into one (after a bulk ingest).
func (l *Index) Compact() error {
	_, err := l.ix.Compact(l.persistSegments, true)
	return err
}

func storeChange(ch search.Change) (store.SegmentChange, error) {
	sc := store.SegmentChange{Manifest: ch.Manifest, Drop: ch.Dropped, Put: map[uint64][]byte{}}
	for _, s := range ch.New {
		b, err := s.MarshalBinary()
		if err != nil {
			return sc, fmt.Errorf("encode segment %d: %w", s.ID(), err)
		}
		sc.Put[s.ID()] = b
	}
	return sc, nil
}
