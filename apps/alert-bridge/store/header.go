package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// A header is stored in a compact binary form: headerV2, then its fields
// in the order below, strings and times as uvarint length + bytes (times
// in time.Time's binary form, which keeps the sender's UTC offset as JSON
// does), integers as varints, digests as 16 bytes. Headers written before
// it are JSON; they begin with '{' and are still read. The JSON form cost
// a json.Marshal per webhook and a json.Unmarshal per delivery attempt,
// about 9% of the bridge's CPU under load (perf).
const headerV2 = 0x02

func appendHeaderBinary(b []byte, h *header) ([]byte, error) {
	n := &h.Notification
	b = append(b, headerV2)
	b = appendString(b, h.ID)
	var err error
	for _, t := range []time.Time{h.ReceivedAt, h.AgeFrom, h.DeadAt} {
		if b, err = appendTime(b, t); err != nil {
			return nil, fmt.Errorf("encode message %s: %w", h.ID, err)
		}
	}
	b = binary.AppendVarint(b, int64(h.Attempts))
	replayed := byte(0)
	if h.Replayed {
		replayed = 1
	}
	b = append(b, replayed)
	for _, s := range []string{h.LastError, string(n.Source), n.Version, n.GroupKey, n.Status, n.Receiver,
		n.AlertName, n.Severity, n.Team, n.Summary, n.First.Fingerprint} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, n.OrgID)
	b = binary.AppendVarint(b, int64(n.Alerts))
	b = binary.AppendVarint(b, int64(n.Firing))
	b = binary.AppendUvarint(b, n.TruncatedAlerts)
	for _, t := range []time.Time{n.First.StartsAt, n.First.EndsAt} {
		if b, err = appendTime(b, t); err != nil {
			return nil, fmt.Errorf("encode message %s: %w", h.ID, err)
		}
	}
	b = append(b, n.GroupID[:]...)
	return append(b, n.DedupeKey[:]...), nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	// time's binary form is 15 bytes (16 with a sub-minute UTC offset).
	start := len(b)
	b, err := t.AppendBinary(append(b, 0))
	if err != nil {
		return nil, err
	}
	if n := len(b) - start - 1; n < 0x80 { // one-byte uvarint
		b[start] = byte(n)
		return b, nil
	}
	return nil, fmt.Errorf("time %v: binary form of %d bytes", t, len(b)-start-1)
}

// headerReader reads the binary form; the first error sticks.
type headerReader struct {
	b   []byte
	err error
}

var errShortHeader = errors.New("stored message header ends early")

func (r *headerReader) bytes() []byte {
	n, k := binary.Uvarint(r.b)
	if r.err != nil || k <= 0 || n > uint64(len(r.b)-k) {
		r.fail(errShortHeader)
		return nil
	}
	v := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}

func (r *headerReader) string() string { return string(r.bytes()) }

func (r *headerReader) time() time.Time {
	var t time.Time
	if v := r.bytes(); r.err == nil {
		if err := t.UnmarshalBinary(v); err != nil {
			r.fail(fmt.Errorf("stored message header: time: %w", err))
		}
	}
	return t
}

func (r *headerReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if r.err != nil || k <= 0 {
		r.fail(errShortHeader)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *headerReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if r.err != nil || k <= 0 {
		r.fail(errShortHeader)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *headerReader) fixed(dst []byte) {
	if r.err != nil || len(r.b) < len(dst) {
		r.fail(errShortHeader)
		return
	}
	r.b = r.b[copy(dst, r.b):]
}

func (r *headerReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func decodeHeaderBinary(v []byte) (header, error) {
	var h header
	n := &h.Notification
	if len(v) == 0 || v[0] != headerV2 {
		return h, errors.New("stored message header: unknown form")
	}
	r := &headerReader{b: v[1:]}
	h.ID = r.string()
	h.ReceivedAt, h.AgeFrom, h.DeadAt = r.time(), r.time(), r.time()
	h.Attempts = int(r.varint())
	var replayed [1]byte
	r.fixed(replayed[:])
	h.Replayed = replayed[0] == 1
	h.LastError = r.string()
	n.Source = payload.Source(r.string())
	n.Version, n.GroupKey, n.Status, n.Receiver = r.string(), r.string(), r.string(), r.string()
	n.AlertName, n.Severity, n.Team, n.Summary = r.string(), r.string(), r.string(), r.string()
	n.First.Fingerprint = r.string()
	n.OrgID, n.Alerts, n.Firing = r.varint(), int(r.varint()), int(r.varint())
	n.TruncatedAlerts = r.uvarint()
	n.First.StartsAt, n.First.EndsAt = r.time(), r.time()
	r.fixed(n.GroupID[:])
	r.fixed(n.DedupeKey[:])
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("stored message header: %d bytes after its fields", len(r.b)))
	}
	return h, r.err
}
