// Package store persists what ingest found in an embedded bbolt database:
// one record per source file (content hash, ACL, why it was skipped), its
// chunks, and the encoded search segments with their manifest, all written in
// one transaction per commit so the index on disk never disagrees with the
// chunks it points at.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// Version is the on-disk format. A database written by another version is
// emptied on open (and re-ingested), never half-read.
const Version = "3"

var (
	bucketMeta     = []byte("meta")
	bucketFiles    = []byte("files")
	bucketChunks   = []byte("chunks")
	bucketSegments = []byte("segments")
	keyVersion     = []byte("version")
	keyManifest    = []byte("manifest")
	allBuckets     = [][]byte{bucketMeta, bucketFiles, bucketChunks, bucketSegments}
)

// ErrLocked means another process holds the index open for writing.
var ErrLocked = errors.New("index is open in another process")

// Store is the on-disk index.
type Store struct {
	db    *bolt.DB
	Reset bool // the file held another format version and was emptied
}

// FileRecord is what the store remembers about one source file.
type FileRecord struct {
	Hash    string   `json:"hash"`              // sha256 of the content, or the S3 ETag
	ACLKey  string   `json:"acl_key,omitempty"` // digest of the ACL files that applied
	Size    int64    `json:"size,omitempty"`
	ModTime int64    `json:"mtime,omitempty"` // unix nanoseconds
	Parser  string   `json:"parser,omitempty"`
	Title   string   `json:"title,omitempty"`
	Public  bool     `json:"public,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	// DocGroups is the document's own ACL (front matter, meta tags), kept so
	// an ACL file change can be applied without parsing the file again.
	DocGroups []string `json:"doc_groups,omitempty"`
	DocACL    bool     `json:"doc_acl,omitempty"`
	Chunks    int      `json:"chunks"`
	Pages     int      `json:"pages,omitempty"`
	// Skip is why the file is not indexed; it is remembered until the file
	// (or its ACL, or the parser) changes, so a hostile file costs one parse.
	Skip     string    `json:"skip,omitempty"`
	Ingested time.Time `json:"ingested"`
}

// OpenReadOnly opens an existing database without writing to it (Lambda's
// /var/task is read-only).
func OpenReadOnly(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	if err != nil {
		return nil, openErr(path, err)
	}
	s := &Store{db: db}
	err = db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || string(m.Get(keyVersion)) != Version {
			return fmt.Errorf("index %s has another format version (want %s): rebuild it with this rag-api's ingest", path, Version)
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

func openErr(path string, err error) error {
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("open index %s: %w (a running `rag-api serve` ingests its --ingest folders itself; add the folder there)", path, ErrLocked)
	}
	return fmt.Errorf("open index %s: %w", path, err)
}

// Open opens (creating if needed) the database at path for writing.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, openErr(path, err)
	}
	s := &Store{db: db}
	err = db.Update(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m == nil || string(m.Get(keyVersion)) != Version {
			s.Reset = tx.Bucket(bucketFiles) != nil
			for _, b := range allBuckets {
				if tx.Bucket(b) != nil {
					if err := tx.DeleteBucket(b); err != nil {
						return err
					}
				}
			}
		}
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyVersion, []byte(Version))
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("init index %s: %w", path, err), db.Close())
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// File returns the record for source, if any.
func (s *Store) File(source string) (FileRecord, bool, error) {
	var rec FileRecord
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFiles).Get([]byte(source))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &rec)
	})
	return rec, found, err
}

// Sources lists every stored source URI starting with prefix.
func (s *Store) Sources(prefix string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFiles).Cursor()
		p := []byte(prefix)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			out = append(out, string(k))
		}
		return nil
	})
	return out, err
}

func chunkKey(source string, ordinal int) []byte { return []byte(doc.ID(source, ordinal)) }

// Chunk returns chunk ordinal of source, or nil if there is none (the file
// was replaced since the caller looked).
func (s *Store) Chunk(source string, ordinal int) (*doc.Chunk, error) {
	var c *doc.Chunk
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketChunks).Get(chunkKey(source, ordinal))
		if v == nil {
			return nil
		}
		c = &doc.Chunk{}
		return json.Unmarshal(v, c)
	})
	return c, err
}

// FileChunks returns every chunk of source in order.
func (s *Store) FileChunks(source string) ([]*doc.Chunk, error) {
	var out []*doc.Chunk
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFiles).Get([]byte(source))
		if v == nil {
			return nil
		}
		var rec FileRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		cb := tx.Bucket(bucketChunks)
		for i := 0; i < rec.Chunks; i++ {
			cv := cb.Get(chunkKey(source, i))
			if cv == nil {
				return fmt.Errorf("chunk %d of %s missing", i, source)
			}
			c := &doc.Chunk{}
			if err := json.Unmarshal(cv, c); err != nil {
				return fmt.Errorf("chunk %d of %s: %w", i, source, err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Write replaces what is stored for one source: Record nil deletes it.
type Write struct {
	Source string
	Record *FileRecord
	Chunks []*doc.Chunk // the file's chunks, IDs Source#0..n-1 (ignored when Record is nil or skipped)
	// RecordOnly replaces the record (a new timestamp for the same content)
	// and keeps the stored chunks.
	RecordOnly bool
}

// SegmentChange is the index side of a commit.
type SegmentChange struct {
	Manifest []byte
	Put      map[uint64][]byte
	Drop     []uint64
}

func segKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// Commit applies file writes and the matching index change atomically.
func (s *Store) Commit(writes []Write, seg SegmentChange) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		fb, cb := tx.Bucket(bucketFiles), tx.Bucket(bucketChunks)
		for _, w := range writes {
			if w.RecordOnly && w.Record != nil {
				v, err := json.Marshal(w.Record)
				if err != nil {
					return err
				}
				if err := fb.Put([]byte(w.Source), v); err != nil {
					return err
				}
				continue
			}
			if err := deleteChunks(fb, cb, w.Source); err != nil {
				return err
			}
			if w.Record == nil {
				if err := fb.Delete([]byte(w.Source)); err != nil {
					return err
				}
				continue
			}
			rec := *w.Record
			rec.Chunks = 0
			if rec.Skip == "" {
				for i, c := range w.Chunks {
					if want := doc.ID(w.Source, i); c.ID != want {
						return fmt.Errorf("chunk %q of %s: want id %q", c.ID, w.Source, want)
					}
					v, err := json.Marshal(c)
					if err != nil {
						return err
					}
					if err := cb.Put([]byte(c.ID), v); err != nil {
						return err
					}
				}
				rec.Chunks = len(w.Chunks)
			}
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := fb.Put([]byte(w.Source), v); err != nil {
				return err
			}
		}
		sb := tx.Bucket(bucketSegments)
		for _, id := range seg.Drop {
			if err := sb.Delete(segKey(id)); err != nil {
				return err
			}
		}
		for id, b := range seg.Put {
			if err := sb.Put(segKey(id), b); err != nil {
				return err
			}
		}
		if seg.Manifest != nil {
			return tx.Bucket(bucketMeta).Put(keyManifest, seg.Manifest)
		}
		return nil
	})
}

func deleteChunks(fb, cb *bolt.Bucket, source string) error {
	v := fb.Get([]byte(source))
	if v == nil {
		return nil
	}
	var rec FileRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return fmt.Errorf("file record %s: %w", source, err)
	}
	for i := 0; i < rec.Chunks; i++ {
		if err := cb.Delete(chunkKey(source, i)); err != nil {
			return err
		}
	}
	return nil
}

// LoadIndex calls load with the manifest (nil if none was ever written) and
// a reader of segment encodings, inside one read transaction: what load sees
// is one consistent state.
func (s *Store) LoadIndex(load func(manifest []byte, segment func(id uint64) ([]byte, error)) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSegments)
		return load(tx.Bucket(bucketMeta).Get(keyManifest), func(id uint64) ([]byte, error) {
			v := sb.Get(segKey(id))
			if v == nil {
				return nil, fmt.Errorf("segment %d missing", id)
			}
			return v, nil
		})
	})
}

// Files calls fn for every file record (sorted by source).
func (s *Store) Files(fn func(source string, rec FileRecord) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			var rec FileRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("file record %s: %w", k, err)
			}
			return fn(string(k), rec)
		})
	})
}
