// Package store is alert-bridge's embedded durable outbox: a bbolt file,
// fsync'd on every commit, written by a single goroutine that batches
// concurrent requests into one transaction (group commit). A request
// returns only after the transaction holding it has committed, so an
// acknowledged alert survives a crash. It implements outbox.Queue.
//
// Buckets (seq is a be64 message sequence, gid a 16-byte group digest):
//
//	meta     instance -> random id (prefix of message ids); schema -> "3"
//	msgs     seq -> message (binary header + raw body, see header.go)
//	groups   gid -> group record: schedule, attempts, age, last error and
//	         the group's pending message sequences in order (codec.go)
//	due      be64(next attempt ns) || gid -> nil: the delivery schedule
//	dead     id -> message, parked dead letters
//	deadidx  be64(dead at ns) || id -> nil: dead-letter retention
//	dedupe   be64(at ns) || gid -> dedupeKey || be64(seq): append-only
//	         log of accepted notifications, pruned from the front
//
// The schedule is per group, not per message: a group is due when its
// oldest undelivered state may be attempted, and only one lease per group
// is out at a time, so a group's states go out in order.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

var (
	bMeta    = []byte("meta")
	bMsgs    = []byte("msgs")
	bGroups  = []byte("groups")
	bDue     = []byte("due")
	bDead    = []byte("dead")
	bDeadIdx = []byte("deadidx")
	bDedupe  = []byte("dedupe")
	buckets  = [][]byte{bMeta, bMsgs, bGroups, bDue, bDead, bDeadIdx, bDedupe}
	// bOutboxV1 is the first schema's outbox bucket, bGQV2 the second's
	// per-group queues (see migrate.go).
	bOutboxV1 = []byte("outbox")
	bGQV2     = []byte("gq")
)

// ErrClosed is returned for requests made after Close.
var ErrClosed = outbox.ErrClosed

// ErrNotFound is returned when a message id is not where it was expected.
var ErrNotFound = outbox.ErrNotFound

// Options configure Open.
type Options struct {
	// DedupeWindow: a notification whose dedupe key equals the last one
	// accepted for its group within this window is a duplicate. Default 5m.
	DedupeWindow time.Duration
	// DedupeMaxGroups bounds the in-memory dedupe index (about 100 bytes a
	// group); beyond it the oldest groups are forgotten early. Default 200,000.
	DedupeMaxGroups int
	// MaxBatch bounds the requests committed in one transaction. Default 512.
	MaxBatch int
	// QueueSize bounds requests waiting for the writer. Default 4096.
	QueueSize int
	// LockTimeout: how long Open waits for another process's file lock. Default 1s.
	LockTimeout time.Duration
	// Budget, if set, is charged for every message a lease holds in memory.
	Budget *membudget.Budget
	// CompactAbove: Open rewrites the file when it is larger than this and
	// more than half of it is free pages. Default 64 MiB; negative: never.
	CompactAbove int64
	// OnCommit, if set, observes each committed batch size (metrics).
	OnCommit func(batch int, took time.Duration)
	// OnSuperseded, if set, counts pending states collapsed into newer ones.
	OnSuperseded func(n int)
	Now          func() time.Time
}

// Store is the durable outbox. Safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
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
	commits  atomic.Uint64 // committed write transactions
	health   atomic.Pointer[error]
	pruning  atomic.Bool

	// Owned by the writer goroutine (and Open before it starts).
	dd *dedupeIndex

	// Claimed groups; see claim.go.
	claimMu  sync.Mutex
	inflight map[payload.Digest]bool
	released map[payload.Digest]uint64 // group -> commit count when it was settled
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
	if opts.DedupeMaxGroups <= 0 {
		opts.DedupeMaxGroups = 200_000
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
	if opts.CompactAbove == 0 {
		opts.CompactAbove = 64 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := compactIfSparse(path, opts); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, boltOptions(opts.LockTimeout))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, opts: opts, reqs: make(chan *op, opts.QueueSize), stop: make(chan struct{}),
		stopped: make(chan struct{}), dd: newDedupeIndex(opts.DedupeMaxGroups),
		inflight: map[payload.Digest]bool{}, released: map[payload.Digest]uint64{}}
	if err := errors.Join(db.Update(s.init), db.View(s.counts)); err != nil {
		return nil, errors.Join(fmt.Errorf("init store %s: %w", path, err), db.Close())
	}
	go s.writer()
	return s, nil
}

func boltOptions(lock time.Duration) *bolt.Options {
	// NoFreelistSync: the freelist is rebuilt on open instead of written on
	// every commit (fewer pages per commit). InitialMmapSize avoids remaps
	// (which wait for every reader) while the file grows.
	return &bolt.Options{Timeout: lock, FreelistType: bolt.FreelistMapType, NoFreelistSync: true, InitialMmapSize: 1 << 30}
}

// schema is the layout this binary writes; migrate.go reads the older ones.
const schema = 3

func (s *Store) init(tx *bolt.Tx) error {
	for _, b := range buckets {
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
	if v := meta.Get([]byte("schema")); v != nil {
		// Reading a newer layout as this one would misread every record.
		if n, err := strconv.Atoi(string(v)); err != nil || n > schema {
			return fmt.Errorf("the file has schema %q, this binary reads 1 to %d: run the alert-bridge that wrote it", v, schema)
		}
	}
	if err := s.migrateV2(tx); err != nil {
		return err
	}
	if err := s.migrateV1(tx); err != nil {
		return err
	}
	if err := meta.Put([]byte("schema"), strconv.AppendInt(nil, schema, 10)); err != nil {
		return fmt.Errorf("put schema: %w", err)
	}
	if err := s.dd.load(tx.Bucket(bDedupe)); err != nil {
		return fmt.Errorf("load dedupe log: %w", err)
	}
	return nil
}

// counts loads what Open reports from committed pages (Bucket.Stats does
// not see a running transaction's writes).
func (s *Store) counts(tx *bolt.Tx) error {
	s.seq.Store(tx.Bucket(bMsgs).Sequence())
	s.depth.Store(countKeys(tx.Bucket(bMsgs)))
	s.dead.Store(countKeys(tx.Bucket(bDead)))
	return nil
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

// Healthy is nil while the last write transaction committed; otherwise it
// is that commit's error (a full disk, an I/O error). While unhealthy, a
// probe write is retried every second, so the store recovers on its own.
func (s *Store) Healthy() error {
	if p := s.health.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Store) setHealth(err error) {
	if err == nil {
		s.health.Store(nil)
		return
	}
	s.health.Store(&err)
}

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
	probe := time.NewTicker(time.Second)
	defer probe.Stop()
	for {
		batch = batch[:0]
		select {
		case o := <-s.reqs:
			batch = append(batch, o)
		case <-probe.C:
			if s.Healthy() != nil {
				s.run([]*op{{fn: s.probeWrite, done: make(chan error, 1)}})
			}
			continue
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

// probeWrite is the smallest real write: it tells whether the disk takes
// commits again.
func (s *Store) probeWrite(tx *bolt.Tx) error {
	return tx.Bucket(bMeta).Put([]byte("probe"), fmt.Appendf(nil, "%d", s.opts.Now().UnixNano()))
}

func (s *Store) run(batch []*op) {
	start := time.Now()
	s.dd.begin()
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, o := range batch {
			if err := o.fn(tx); err != nil {
				return &batchErr{i: i, err: err}
			}
		}
		return nil
	})
	if err == nil {
		s.committed(batch, start)
		return
	}
	var be *batchErr
	if !errors.As(err, &be) {
		// The commit itself failed (disk full, I/O error): every op of the
		// batch fails, and so would their retries one by one.
		s.dd.abort()
		s.setHealth(fmt.Errorf("store commit: %w", err))
		for _, o := range batch {
			o.done <- err
		}
		return
	}
	s.dd.abort()
	if len(batch) == 1 {
		batch[0].done <- be.err
		return
	}
	// One request failed the shared transaction: give each its own so a
	// bad request cannot fail its neighbours.
	for _, o := range batch {
		s.dd.begin()
		start := time.Now()
		err := s.db.Update(o.fn)
		if err == nil {
			s.committed([]*op{o}, start)
			continue
		}
		s.dd.abort()
		o.done <- err
	}
}

func (s *Store) committed(batch []*op, start time.Time) {
	s.commits.Add(1)
	s.dd.commit()
	s.setHealth(nil)
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(len(batch), time.Since(start))
	}
	for _, o := range batch {
		if o.commit != nil {
			o.commit()
		}
		o.done <- nil
	}
}
