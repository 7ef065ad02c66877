package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// A message larger than a page is kept in a bucket of its own
// (msgs/<seq> -> {"v": message}) instead of as a value of msgs.
//
// Why: a bbolt leaf holds at least two keys, so a 1 MiB value shares its
// leaf with its neighbour, and appending the next message (or deleting a
// delivered one) rewrites that whole leaf: the neighbour's 1 MiB is
// copied out of the mapping (faulting it into the process's RSS) into a
// fresh heap buffer and written again. Measured with 64 concurrent 1 MiB
// bodies, 1.64 bytes reached the disk per body byte and 82-150 MiB of the
// mapped file was resident. A bucket of its own is a page run nothing
// else shares: writing a message writes it once, and touching msgs
// rewrites only leaves of small bucket headers.
var valueKey = []byte("v")

// putValue stores v under k in b, in a bucket of its own when it is
// larger than a page.
func putValue(b *bolt.Bucket, k, v []byte) error {
	if len(v) <= b.Tx().DB().Info().PageSize {
		return b.Put(k, v)
	}
	if err := deleteValue(b, k); err != nil { // a value stored before under k
		return err
	}
	sub, err := b.CreateBucket(k)
	if err != nil {
		return fmt.Errorf("bucket for large value: %w", err)
	}
	sub.FillPercent = 1 // one key, never appended to
	return sub.Put(valueKey, v)
}

// getValue is the value under k in b (a plain value or one in its own
// bucket), nil when there is none. It points into the mapping.
func getValue(b *bolt.Bucket, k []byte) []byte {
	if v := b.Get(k); v != nil {
		return v
	}
	if sub := b.Bucket(k); sub != nil {
		return sub.Get(valueKey)
	}
	return nil
}

// valueAt resolves a cursor's (k, v): v is nil when k names a bucket.
func valueAt(b *bolt.Bucket, k, v []byte) []byte {
	if v != nil {
		return v
	}
	return getValue(b, k)
}

// deleteValue removes k from b whichever way it is stored; a missing key
// is not an error.
func deleteValue(b *bolt.Bucket, k []byte) error {
	err := b.Delete(k)
	if errors.Is(err, berrors.ErrIncompatibleValue) {
		err = b.DeleteBucket(k)
	}
	return err
}

// countKeys counts b's top-level keys (Stats().KeyN also counts the keys
// of nested buckets).
func countKeys(b *bolt.Bucket) int64 {
	var n int64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
