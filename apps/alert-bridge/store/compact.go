package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// compactIfSparse rewrites the file at path when it is larger than
// opts.CompactAbove and more than half of its pages are free. bbolt reuses
// free pages but never shrinks its file, so a burst (an outage that queued
// a million alerts) would otherwise keep its disk for good.
func compactIfSparse(path string, opts Options) error {
	if opts.CompactAbove < 0 {
		return nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat store %s: %w", path, err)
	}
	if fi.Size() <= opts.CompactAbove {
		return nil
	}
	// Read-write: a read-only open does not load the freelist.
	db, err := bolt.Open(path, 0o600, boltOptions(opts.LockTimeout))
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	free := int64(db.Stats().FreePageN+db.Stats().PendingPageN) * int64(db.Info().PageSize)
	var used int64 // up to the high-water mark; the file may be pre-grown past it
	_ = db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
	db.Close()
	if free*2 < used {
		return nil
	}
	_, _, err = Compact(path)
	return err
}

// Compact rewrites the store file at path without its free pages (the
// file must not be open elsewhere). It writes a new file next to it,
// fsyncs it, renames it over the old one and fsyncs the directory, so a
// crash leaves either file whole. It returns the sizes before and after.
func Compact(path string) (before, after int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("stat store: %w", err)
	}
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return 0, 0, fmt.Errorf("open store %s: %w", path, err)
	}
	defer src.Close()
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return 0, 0, fmt.Errorf("create %s: %w", tmp, err)
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("close %s: %w", tmp, err)
	}
	src.Close()
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("replace %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("sync directory of %s: %w", path, err)
		}
	}
	nfi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("stat compacted store: %w", err)
	}
	return fi.Size(), nfi.Size(), nil
}
