// Package store persists ingested chunks and per-file content hashes in an
// embedded bbolt database, so restarts and re-ingests only redo what changed.
package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

var (
	bucketFiles  = []byte("files")
	bucketChunks = []byte("chunks")
)

// Store is the on-disk index of ingested files.
type Store struct {
	db *bolt.DB
}

// FileRecord is what the store remembers about one source file.
type FileRecord struct {
	Hash     string    `json:"hash"`
	ChunkIDs []string  `json:"chunk_ids"`
	Ingested time.Time `json:"ingested"`
}

// OpenReadOnly opens an existing database without writing to it (Lambda's
// /var/task is read-only).
func OpenReadOnly(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("open index %s read-only: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Open opens (creating if needed) the database at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketChunks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init index %s: %w", path, err)
	}
	return &Store{db: db}, nil
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

// Sources lists every stored source URI.
func (s *Store) Sources() ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// PutFile replaces everything stored for source with chunks, atomically.
func (s *Store) PutFile(source, hash string, chunks []*doc.Chunk) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteFile(tx, source); err != nil {
			return err
		}
		rec := FileRecord{Hash: hash, Ingested: time.Now().UTC()}
		cb := tx.Bucket(bucketChunks)
		for _, c := range chunks {
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := cb.Put([]byte(c.ID), v); err != nil {
				return err
			}
			rec.ChunkIDs = append(rec.ChunkIDs, c.ID)
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketFiles).Put([]byte(source), v)
	})
}

// DeleteFile removes source and its chunks.
func (s *Store) DeleteFile(source string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deleteFile(tx, source) })
}

func deleteFile(tx *bolt.Tx, source string) error {
	fb := tx.Bucket(bucketFiles)
	v := fb.Get([]byte(source))
	if v == nil {
		return nil
	}
	var rec FileRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return fmt.Errorf("file record %s: %w", source, err)
	}
	cb := tx.Bucket(bucketChunks)
	for _, id := range rec.ChunkIDs {
		if err := cb.Delete([]byte(id)); err != nil {
			return err
		}
	}
	return fb.Delete([]byte(source))
}

// Chunks calls fn for every stored chunk.
func (s *Store) Chunks(fn func(*doc.Chunk) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChunks).ForEach(func(k, v []byte) error {
			var c doc.Chunk
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("chunk %s: %w", k, err)
			}
			return fn(&c)
		})
	})
}
