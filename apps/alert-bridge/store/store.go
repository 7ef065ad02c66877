// Package store is alert-bridge's durable outbox: a bbolt file, fsync'd on
// every commit, written by a single goroutine that batches concurrent
// requests into one transaction (group commit). A request returns only
// after the transaction holding it has committed, so an acknowledged alert
// survives a crash.
//
// Buckets:
//
//	meta    instance -> random id (prefix of message ids)
//	outbox  id -> Message (JSON), pending delivery
//	due     be64(nextAttempt ns) || id -> nil, the delivery schedule
//	dead    id -> Message (JSON), parked after the max age
//	dedupe  be64(at ns) || groupID -> dedupeKey(64) || id, an append-only log
//	        of accepted notifications, pruned from the front after the window
//
// The dedupe log is keyed by time so each commit appends to the last page
// instead of dirtying one random page per message; the per-group index
// (last accepted key per group) lives in memory, is owned by the writer
// goroutine and is rebuilt from the log on Open.
package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bMeta   = []byte("meta")
	bOutbox = []byte("outbox")
	bDue    = []byte("due")
	bDead   = []byte("dead")
	bDedupe = []byte("dedupe")
)

// ErrClosed is returned for requests made after Close.
var ErrClosed = errors.New("store closed")

// ErrNotFound is returned when a message id is not where it was expected.
var ErrNotFound = errors.New("message not found")

// Options configure Open.
type Options struct {
	// DedupeWindow: a notification whose dedupe key equals the last one
	// accepted for its group within this window is a duplicate. Default 5m.
	DedupeWindow time.Duration
	// MaxBatch bounds the requests committed in one transaction. Default 512.
	MaxBatch int
	// QueueSize bounds requests waiting for the writer. Default 4096.
	QueueSize int
	// LockTimeout: how long Open waits for another process's file lock. Default 1s.
	LockTimeout time.Duration
	// OnCommit, if set, observes each committed batch size (metrics).
	OnCommit func(batch int, took time.Duration)
	Now      func() time.Time
}

// Store is the durable outbox. Safe for concurrent use.
type Store struct {
	db       *bolt.DB
	opts     Options
	instance string
	reqs     chan *op
	stop     chan struct{}
	stopped  chan struct{}
	closeMu  sync.RWMutex
	closed   bool
	depth    atomic.Int64
	dead     atomic.Int64
	seq      atomic.Uint64 // last message sequence handed out

	// Owned by the writer goroutine (and Open before it starts).
	groups  map[string]ddEntry // committed
	pending map[string]ddEntry // written by the batch being committed
}

type ddEntry struct {
	at  int64 // unix ns
	key string
	id  string
}

type op struct {
	fn     func(tx *bolt.Tx) error
	commit func() // after a successful commit, on the writer goroutine
	done   chan error
}

// Open opens (creating if needed) the store at path and starts its writer.
func Open(path string, opts Options) (*Store, error) {
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = 5 * time.Minute
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, FreelistType: bolt.FreelistMapType, NoFreelistSync: true, InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts, reqs: make(chan *op, opts.QueueSize), stop: make(chan struct{}), stopped: make(chan struct{}),
		groups: map[string]ddEntry{}, pending: map[string]ddEntry{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMeta, bOutbox, bDue, bDead, bDedupe} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bMeta)
		if id := meta.Get([]byte("instance")); id != nil {
			s.instance = string(id)
		} else {
			var r [6]byte
			if _, err := rand.Read(r[:]); err != nil {
				return fmt.Errorf("instance id: %w", err)
			}
			s.instance = hex.EncodeToString(r[:])
			if err := meta.Put([]byte("instance"), []byte(s.instance)); err != nil {
				return fmt.Errorf("put instance id: %w", err)
			}
		}
		if err := tx.Bucket(bDedupe).ForEach(func(k, v []byte) error {
			if len(k) > 8 && len(v) >= 64 {
				s.groups[string(k[8:])] = ddEntry{at: int64(binary.BigEndian.Uint64(k[:8])), key: string(v[:64]), id: string(v[64:])}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("load dedupe log: %w", err)
		}
		s.seq.Store(tx.Bucket(bOutbox).Sequence())
		s.depth.Store(int64(tx.Bucket(bOutbox).Stats().KeyN))
		s.dead.Store(int64(tx.Bucket(bDead).Stats().KeyN))
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init store %s: %w", path, err)
	}
	go s.writer()
	return s, nil
}

// Close stops the writer after the queued requests and closes the file.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.closeMu.Unlock()
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Depth is the number of messages pending delivery.
func (s *Store) Depth() int64 { return s.depth.Load() }

// DeadCount is the number of parked dead letters.
func (s *Store) DeadCount() int64 { return s.dead.Load() }

// Instance is the random id of this store file, the prefix of message ids.
func (s *Store) Instance() string { return s.instance }

// submit hands fn to the writer and waits for its batch to commit.
func (s *Store) submit(ctx context.Context, fn func(tx *bolt.Tx) error, commit func()) error {
	o := &op{fn: fn, commit: commit, done: make(chan error, 1)}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case s.reqs <- o:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return fmt.Errorf("queue for writer: %w", ctx.Err())
	}
	s.closeMu.RUnlock()
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		// The op may still commit; callers treat this as "unknown" and the
		// sender retries, which dedupe absorbs.
		return fmt.Errorf("wait for commit: %w", ctx.Err())
	}
}

type batchErr struct {
	i   int
	err error
}

func (e *batchErr) Error() string { return e.err.Error() }

func (s *Store) writer() {
	defer close(s.stopped)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case o := <-s.reqs:
			batch = append(batch, o)
		case <-s.stop:
			// Drain what was queued before Close.
			for {
				select {
				case o := <-s.reqs:
					s.run([]*op{o})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o := <-s.reqs:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.run(batch)
	}
}

func (s *Store) run(batch []*op) {
	start := time.Now()
	clear(s.pending)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, o := range batch {
			if err := o.fn(tx); err != nil {
				return &batchErr{i: i, err: err}
			}
		}
		return nil
	})
	if err == nil {
		s.mergePending()
		if s.opts.OnCommit != nil {
			s.opts.OnCommit(len(batch), time.Since(start))
		}
		for _, o := range batch {
			if o.commit != nil {
				o.commit()
			}
			o.done <- nil
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- unwrapBatch(err)
		return
	}
	// One request failed the shared transaction: give each its own so a
	// bad request cannot fail its neighbours.
	for _, o := range batch {
		clear(s.pending)
		err := s.db.Update(o.fn)
		if err == nil {
			s.mergePending()
			if o.commit != nil {
				o.commit()
			}
		}
		o.done <- err
	}
}

func (s *Store) mergePending() {
	for g, e := range s.pending {
		s.groups[g] = e
	}
	clear(s.pending)
}

// lastAccepted is the group's last accepted entry as seen by the running
// transaction (writer goroutine only).
func (s *Store) lastAccepted(groupID string) (ddEntry, bool) {
	if e, ok := s.pending[groupID]; ok {
		return e, true
	}
	e, ok := s.groups[groupID]
	return e, ok
}

func unwrapBatch(err error) error {
	var be *batchErr
	if errors.As(err, &be) {
		return be.err
	}
	return err
}
