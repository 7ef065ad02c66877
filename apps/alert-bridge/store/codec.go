package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/outbox"
	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// header is a stored message without its raw body.
type header struct {
	ID           string               `json:"id"`
	ReceivedAt   time.Time            `json:"receivedAt"`
	AgeFrom      time.Time            `json:"ageFrom,omitzero"`
	Attempts     int                  `json:"attempts,omitempty"`
	Replayed     bool                 `json:"replayed,omitempty"`
	LastError    string               `json:"lastError,omitempty"`
	DeadAt       time.Time            `json:"deadAt,omitzero"`
	Notification payload.Notification `json:"notification"`
}

// A stored message is raw body || header || be32(len(header)), the
// header in the binary form of header.go (JSON in files written before it).
// The body comes first, as the sender sent it and never re-encoded, so a
// receiver can read it straight into a buffer with room for the header and
// the store appends the rest without copying the body (see AppendValue).
func encodeMsg(h *header, raw []byte) ([]byte, error) {
	return appendHeader(append(make([]byte, 0, len(raw)+1024), raw...), h)
}

func appendHeader(v []byte, h *header) ([]byte, error) {
	start := len(v)
	v, err := appendHeaderBinary(v, h)
	if err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint32(v, uint32(len(v)-start)), nil
}

// decodeHeader reads the header of a stored message; raw is the body
// within v (not copied: copy it before the transaction ends).
func decodeHeader(v []byte) (h header, raw []byte, err error) {
	if len(v) < 4 {
		return h, nil, fmt.Errorf("stored message too short (%d bytes)", len(v))
	}
	n := int(binary.BigEndian.Uint32(v[len(v)-4:]))
	if n+4 > len(v) {
		return h, nil, fmt.Errorf("stored message header of %d bytes overruns its %d-byte value", n, len(v))
	}
	end := len(v) - 4
	if hv := v[end-n : end]; len(hv) > 0 && hv[0] == '{' { // written before the binary form
		if err := json.Unmarshal(hv, &h); err != nil {
			return h, nil, fmt.Errorf("decode stored message header: %w", err)
		}
	} else if h, err = decodeHeaderBinary(hv); err != nil {
		return h, nil, err
	}
	return h, v[:end-n], nil
}

// toMessage copies a stored value out of its transaction.
func toMessage(v []byte) (*outbox.Message, error) {
	h, raw, err := decodeHeader(v)
	if err != nil {
		return nil, err
	}
	m := &outbox.Message{ID: h.ID, GroupID: h.Notification.GroupID, Notification: h.Notification, ReceivedAt: h.ReceivedAt,
		AgeFrom: h.AgeFrom, Attempts: h.Attempts, Replayed: h.Replayed, LastError: h.LastError, DeadAt: h.DeadAt}
	m.Notification.Raw = append([]byte(nil), raw...)
	return m, nil
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func seqKey(seq uint64) []byte { return be64(seq) }

func dueKey(at int64, g payload.Digest) []byte {
	return append(be64(uint64(at)), g[:]...)
}

// group is a group's delivery state and its pending messages.
type group struct {
	next       int64 // unix ns of the next attempt; the due key holds the same
	attempts   int
	superseded int   // states collapsed at enqueue since the last delivery
	ageFrom    int64 // unix ns: undelivered since
	lastError  string
	// pending are the group's undelivered message sequences, oldest first
	// (at most two: Enqueue collapses the ones in between).
	pending []uint64
}

// A group record (schema 3): be64 next, be32 attempts, be32 superseded,
// be64 ageFrom, one byte n, n be64 pending sequences, then lastError.
// The pending list lives in the record (schema 2 kept it in a bucket of
// its own): an enqueue or a delivery then rewrites one key, not two in
// two buckets at two random places.
const groupFixed = 25

func (g group) encode() []byte {
	v := make([]byte, groupFixed, groupFixed+8*len(g.pending)+len(g.lastError))
	binary.BigEndian.PutUint64(v[0:], uint64(g.next))
	binary.BigEndian.PutUint32(v[8:], uint32(g.attempts))
	binary.BigEndian.PutUint32(v[12:], uint32(g.superseded))
	binary.BigEndian.PutUint64(v[16:], uint64(g.ageFrom))
	v[24] = byte(len(g.pending))
	for _, seq := range g.pending {
		v = binary.BigEndian.AppendUint64(v, seq)
	}
	return append(v, g.lastError...)
}

func decodeGroup(v []byte) (group, error) {
	if len(v) < groupFixed {
		return group{}, fmt.Errorf("group record of %d bytes, want at least %d", len(v), groupFixed)
	}
	n := int(v[24])
	if len(v) < groupFixed+8*n {
		return group{}, fmt.Errorf("group record of %d bytes lists %d pending messages, want at least %d bytes", len(v), n, groupFixed+8*n)
	}
	g := decodeSchedule(v)
	g.lastError = string(v[groupFixed+8*n:])
	if n > 0 {
		g.pending = make([]uint64, n)
		for i := range n {
			g.pending[i] = binary.BigEndian.Uint64(v[groupFixed+8*i:])
		}
	}
	return g, nil
}

// decodeSchedule reads the 24 bytes every schema since 2 starts a group
// record with: next, attempts, superseded, ageFrom.
func decodeSchedule(v []byte) group {
	return group{next: int64(binary.BigEndian.Uint64(v[0:])), attempts: int(binary.BigEndian.Uint32(v[8:])),
		superseded: int(binary.BigEndian.Uint32(v[12:])), ageFrom: int64(binary.BigEndian.Uint64(v[16:]))}
}

func (s *Store) msgID(seq uint64) string { return fmt.Sprintf("%s-%012d", s.instance, seq) }
