// Package outbox is the contract between alert-bridge's receivers and its
// deliverer: a durable queue of notifications, ordered per alert group.
// Two implementations: store (an embedded bbolt file, the default) and
// sqsbox (an SQS FIFO queue shared by several replicas).
//
// Ordering: a group's notifications are delivered in the order its states
// happened, never an older state after a newer one. At most one lease per
// group is out at a time; an implementation may collapse pending states a
// newer one supersedes (Alertmanager and Grafana send a group's whole
// state every time) and says so in Message.Superseded.
package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// Message is one notification handed to the deliverer.
type Message struct {
	// ID is the Idempotency-Key of every attempt: stable across retries,
	// restarts and replay.
	ID           string
	GroupID      payload.Digest
	Notification payload.Notification // with Raw
	ReceivedAt   time.Time
	AgeFrom      time.Time // the group has been undelivered since (max age)
	Attempts     int       // failed attempts so far
	Superseded   int       // earlier pending states of the group collapsed into this one
	Replayed     bool
	LastError    string
	DeadAt       time.Time
}

// Lease is a claimed message. Exactly one of Delivered, Retry, Bury or
// Release settles it; Delivered, Retry and Bury may be called again after
// an error (a store that cannot write), Release never fails.
type Lease interface {
	Message() *Message
	// Delivered removes the message (and the states it superseded).
	Delivered(ctx context.Context) error
	// Retry records a failed attempt; the group is due again at next.
	Retry(ctx context.Context, next time.Time, reason string) error
	// Bury parks the message as a dead letter.
	Bury(ctx context.Context, reason string) error
	// Release gives the lease back unsettled (shutdown): still due.
	Release()
}

// EnqueueResult tells the receiver what happened to a notification.
type EnqueueResult struct {
	ID        string // the new message, or the one it duplicates
	Duplicate bool
}

// Queue is what the receivers and the deliverer need.
type Queue interface {
	// Enqueue makes n durable (or recognises it as a duplicate) before it
	// returns.
	Enqueue(ctx context.Context, n *payload.Notification) (EnqueueResult, error)
	// Due claims up to max messages that are due now, one per group. When
	// it returns fewer, wait is how long until more may be due (a queue
	// that long-polls returns 0: ask again at once).
	Due(ctx context.Context, max int) (leases []Lease, wait time.Duration, err error)
	// Expedite makes every pending group due now (the target recovered).
	Expedite(ctx context.Context) error
	// Healthy is nil while the queue can record outcomes.
	Healthy() error
	Depth() int64
	DeadCount() int64
}

// ErrClosed is returned for requests made after Close.
var ErrClosed = errors.New("outbox closed")

// ErrNotFound is returned when a message id is not where it was expected.
var ErrNotFound = errors.New("message not found")
