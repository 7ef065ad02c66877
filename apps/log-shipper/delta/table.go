package delta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// PartitionColumns are the Hive-style path partitions inside every table,
// in path order (the contract's partition keys).
var PartitionColumns = []string{"account", "in_region", "dt", "hour"}

// Table is one source's Delta table. Commits through one Table are
// serialised in process; commits from other processes are detected by the
// conditional create of the next entry and retried on the newer state.
type Table struct {
	Store  Store
	Source *schema.Source
	Root   string // key prefix of the table, e.g. "source=alb/"
	// Now stamps modification and deletion times (tests fix it).
	Now func() time.Time

	mu   sync.Mutex
	snap *Snapshot
}

// NewTable is the table of src in the lake whose root is the store's root.
func NewTable(st Store, src *schema.Source) *Table {
	return &Table{Store: st, Source: src, Root: "source=" + src.Name + "/", Now: time.Now}
}

// Snapshot returns the latest state (the log is re-read from the last
// known version).
func (t *Table) Snapshot(ctx context.Context) (*Snapshot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.refresh(ctx); err != nil {
		return nil, err
	}
	return t.snap, nil
}

func (t *Table) refresh(ctx context.Context) error {
	if t.snap == nil {
		t.snap = emptySnapshot()
	}
	return t.snap.update(ctx, t.Store, t.Root)
}

// Plan turns the current snapshot into the actions of one commit; nil
// actions means nothing to commit. It may run more than once when another
// writer commits first, each time on the newer snapshot.
type Plan func(*Snapshot) ([]Action, error)

// maxConflicts bounds the retries of a commit that keeps losing the race.
const maxConflicts = 50

// Commit writes the planned actions as the next log entry and returns its
// version (-1 when the plan had nothing to commit). The first commit of a
// table also writes its protocol and metadata.
func (t *Table) Commit(ctx context.Context, plan Plan, info map[string]any) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for range maxConflicts {
		if err := t.refresh(ctx); err != nil {
			return 0, err
		}
		actions, err := plan(t.snap)
		if err != nil {
			return 0, err
		}
		if len(actions) == 0 {
			return -1, nil
		}
		next := t.snap.Version + 1
		var entry []Action
		if next == 0 {
			md, err := t.metadata()
			if err != nil {
				return 0, err
			}
			entry = append(entry, Action{Protocol: &Protocol{MinReaderVersion: 1, MinWriterVersion: 2}}, Action{MetaData: md})
		}
		ci := map[string]any{"timestamp": t.Now().UnixMilli(), "operation": "WRITE", "engineInfo": "log-shipper"}
		for k, v := range info {
			ci[k] = v
		}
		entry = append(entry, Action{CommitInfo: ci})
		entry = append(entry, actions...)
		data, err := EncodeEntry(entry)
		if err != nil {
			return 0, err
		}
		err = t.Store.PutIfAbsent(ctx, entryKey(t.Root, next), data)
		if errors.Is(err, ErrExists) {
			continue // another writer took this version: plan again on its result
		}
		if err != nil {
			return 0, fmt.Errorf("commit %s version %d: %w", t.Root, next, err)
		}
		t.snap.apply(next, entry)
		return next, nil
	}
	return 0, fmt.Errorf("commit %s: still conflicting after %d attempts", t.Root, maxConflicts)
}

// metadata is the table's metaData action. Its id is derived from the
// source name: every lake's table of a source has the same id, so ids in
// tests and golden files are stable.
func (t *Table) metadata() (*Metadata, error) {
	ss, err := SchemaString(t.Source)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte("unsilo-lake-table\x00" + t.Source.Name))
	h := hex.EncodeToString(sum[:16])
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return &Metadata{
		ID: id, Name: t.Source.Name, Description: t.Source.Description,
		Format:       Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: ss, PartitionColumns: PartitionColumns,
		Configuration: map[string]string{}, CreatedTime: t.Now().UnixMilli(),
	}, nil
}

type field struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Nullable bool              `json:"nullable"`
	Metadata map[string]string `json:"metadata"`
}

// SchemaString is the table schema as Delta writes it (Spark's StructType
// JSON): the source's columns, then the partition columns, all nullable.
func SchemaString(s *schema.Source) (string, error) {
	fields := make([]field, 0, len(s.Columns)+len(PartitionColumns))
	for _, c := range s.Columns {
		fields = append(fields, field{Name: c.Name, Type: sparkType(c.Kind), Nullable: true, Metadata: map[string]string{"comment": c.Description}})
	}
	for _, p := range PartitionColumns {
		fields = append(fields, field{Name: p, Type: "string", Nullable: true, Metadata: map[string]string{}})
	}
	b, err := json.Marshal(map[string]any{"type": "struct", "fields": fields})
	if err != nil {
		return "", fmt.Errorf("encode schema of %s: %w", s.Name, err)
	}
	return string(b), nil
}

func sparkType(k schema.Kind) string {
	switch k {
	case schema.Int:
		return "integer"
	case schema.BigInt:
		return "long"
	case schema.Double:
		return "double"
	case schema.Bool:
		return "boolean"
	case schema.Timestamp:
		return "timestamp"
	}
	return "string"
}

// Stats is the per-file statistics JSON of an add action.
func Stats(records int64) string {
	return fmt.Sprintf(`{"numRecords":%d}`, records)
}
