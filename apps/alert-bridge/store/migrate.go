package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/unsilo/unsilo/apps/alert-bridge/payload"
)

// v1Message is a first-schema value after its 8-byte schedule prefix: the
// normalized webhook, not the raw body.
type v1Message struct {
	ID           string          `json:"id"`
	ReceivedAt   time.Time       `json:"receivedAt"`
	Attempts     int             `json:"attempts"`
	LastError    string          `json:"lastError"`
	DeadAt       time.Time       `json:"deadAt"`
	Notification json.RawMessage `json:"notification"`
}

// migrateV2 moves the second schema's per-group queues (bucket "gq",
// keys gid || be64 seq) into the group records, which that schema ended
// with the last error. A queue entry without a group record, or a record
// it cannot read, stops Open with an error naming it.
func (s *Store) migrateV2(tx *bolt.Tx) error {
	gq := tx.Bucket(bGQV2)
	if gq == nil {
		return nil
	}
	groups := tx.Bucket(bGroups)
	pending := map[payload.Digest][]uint64{}
	err := gq.ForEach(func(k, _ []byte) error {
		if len(k) != len(payload.Digest{})+8 {
			return fmt.Errorf("migrate: queue key %x: want %d bytes", k, len(payload.Digest{})+8)
		}
		g := payload.Digest(k[:len(k)-8])
		pending[g] = append(pending[g], binary.BigEndian.Uint64(k[len(k)-8:]))
		return nil
	})
	if err != nil {
		return err
	}
	var recs [][2][]byte
	err = groups.ForEach(func(k, v []byte) error {
		if len(k) != len(payload.Digest{}) || len(v) < 24 {
			return fmt.Errorf("migrate: group %x: a %d-byte key and a %d-byte record, want %d and at least 24", k, len(k), len(v), len(payload.Digest{}))
		}
		g := payload.Digest(k)
		rec := decodeSchedule(v)
		rec.lastError, rec.pending = string(v[24:]), pending[g]
		delete(pending, g)
		if len(rec.pending) > 255 {
			return fmt.Errorf("migrate: group %x queues %d messages, at most 255 fit a record", k, len(rec.pending))
		}
		recs = append(recs, [2][]byte{bytes.Clone(k), rec.encode()})
		return nil
	})
	if err != nil {
		return err
	}
	for g, seqs := range pending {
		return fmt.Errorf("migrate: group %x queues messages %v but has no group record", g[:], seqs)
	}
	for _, r := range recs {
		if err := groups.Put(r[0], r[1]); err != nil {
			return fmt.Errorf("migrate: group %x: %w", r[0], err)
		}
	}
	if err := tx.DeleteBucket(bGQV2); err != nil {
		return fmt.Errorf("migrate: drop the queue bucket: %w", err)
	}
	return nil
}

// migrateV1 converts a first-schema file (it has an "outbox" bucket): its
// pending messages go into the per-group queues in their original order
// and its dead letters into the new layout, all keeping their ids. The
// normalized notification becomes the raw body and is decoded again to
// group and summarise it. A value that cannot be converted stops Open
// with an error naming it rather than being dropped.
func (s *Store) migrateV1(tx *bolt.Tx) error {
	old := tx.Bucket(bOutboxV1)
	if old == nil {
		return nil
	}
	msgs := tx.Bucket(bMsgs)
	if err := msgs.SetSequence(max(msgs.Sequence(), old.Sequence())); err != nil {
		return fmt.Errorf("migrate: sequence: %w", err)
	}
	// v1 due keys are be64 || id (33 bytes); v2 ones are be64 || gid (24).
	due := tx.Bucket(bDue)
	var v1Due [][]byte
	if err := due.ForEach(func(k, _ []byte) error {
		if len(k) != 24 {
			v1Due = append(v1Due, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("migrate: list due: %w", err)
	}
	for _, k := range v1Due {
		if err := due.Delete(k); err != nil {
			return fmt.Errorf("migrate: drop v1 due key: %w", err)
		}
	}
	err := old.ForEach(func(k, v []byte) error {
		h, seq, err := s.convertV1(k, v)
		if err != nil {
			return err
		}
		val, err := encodeMsg(&h, h.Notification.Raw)
		if err != nil {
			return err
		}
		if err := putValue(msgs, seqKey(seq), val); err != nil {
			return fmt.Errorf("migrate %s: %w", k, err)
		}
		_, err = s.appendToGroup(tx, h.Notification.GroupID, seq, h.ReceivedAt)
		return err
	})
	if err != nil {
		return err
	}
	dead := tx.Bucket(bDead)
	var deadKeys [][]byte
	if err := dead.ForEach(func(k, _ []byte) error { deadKeys = append(deadKeys, bytes.Clone(k)); return nil }); err != nil {
		return fmt.Errorf("migrate: list dead letters: %w", err)
	}
	for _, k := range deadKeys {
		h, _, err := s.convertV1(k, dead.Get(k))
		if err != nil {
			return err
		}
		val, err := encodeMsg(&h, h.Notification.Raw)
		if err != nil {
			return err
		}
		if err := putValue(dead, k, val); err != nil {
			return fmt.Errorf("migrate dead letter %s: %w", k, err)
		}
		if err := tx.Bucket(bDeadIdx).Put(append(be64(uint64(h.DeadAt.UnixNano())), k...), nil); err != nil {
			return fmt.Errorf("migrate dead letter %s: %w", k, err)
		}
	}
	if err := tx.DeleteBucket(bOutboxV1); err != nil {
		return fmt.Errorf("migrate: drop v1 outbox: %w", err)
	}
	return nil
}

func (s *Store) convertV1(k, v []byte) (header, uint64, error) {
	if len(v) < 8 {
		return header{}, 0, fmt.Errorf("migrate %s: value too short", k)
	}
	var m v1Message
	if err := json.Unmarshal(v[8:], &m); err != nil {
		return header{}, 0, fmt.Errorf("migrate %s: %w", k, err)
	}
	var src struct {
		Source payload.Source `json:"source"`
	}
	_ = json.Unmarshal(m.Notification, &src)
	decode := payload.DecodeAlertmanager
	if src.Source == payload.SourceGrafana {
		decode = payload.DecodeGrafana
	}
	n, err := decode(m.Notification)
	if err != nil {
		return header{}, 0, fmt.Errorf("migrate %s: %w", k, err)
	}
	_, num, ok := strings.Cut(m.ID, "-")
	seq, perr := strconv.ParseUint(num, 10, 64)
	if !ok || perr != nil {
		return header{}, 0, fmt.Errorf("migrate %s: id %q is not <instance>-<sequence>", k, m.ID)
	}
	return header{ID: m.ID, ReceivedAt: m.ReceivedAt, AgeFrom: m.ReceivedAt, Attempts: m.Attempts, LastError: m.LastError,
		DeadAt: m.DeadAt, Notification: *n}, seq, nil
}
