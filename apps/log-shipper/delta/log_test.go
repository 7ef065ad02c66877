package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// memStore is an in-memory Store for the log's own tests.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memStore) PutIfAbsent(_ context.Context, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[key]; ok {
		return ErrExists
	}
	m.objs[key] = append([]byte(nil), data...)
	return nil
}

func (m *memStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, ErrNotFound
	}
	return b, nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func fixedTable(st Store) *Table {
	src, _ := schema.Lookup(schema.VPCFlow)
	t := NewTable(st, src)
	t.Now = func() time.Time { return time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC) }
	return t
}

// The first entry of a table, byte for byte (testdata/first-entry.json):
// protocol, metaData with the Spark schema and partition columns, the
// commit info and the add. UPDATE_GOLDEN=1 rewrites it.
func TestFirstEntryGolden(t *testing.T) {
	st := &memStore{objs: map[string][]byte{}}
	tbl := fixedTable(st)
	_, err := tbl.Commit(context.Background(), func(*Snapshot) ([]Action, error) {
		return []Action{{Add: &Add{Path: "account=123456789012/in_region=ap-northeast-2/dt=2026-11-28/hour=10/part-a.parquet", PartitionValues: map[string]string{"account": "123456789012", "in_region": "ap-northeast-2", "dt": "2026-11-28", "hour": "10"},
			Size: 1234, ModificationTime: 1, DataChange: true, Stats: Stats(7), Tags: map[string]string{"log-shipper.input": "in.log"}}}}, nil
	}, map[string]any{"input": "in.log"})
	if err != nil {
		t.Fatal(err)
	}
	got := st.objs["source=vpcflow/_delta_log/00000000000000000000.json"]
	golden := filepath.Join("testdata", "first-entry.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("first entry differs from %s (UPDATE_GOLDEN=1 to accept):\n%s", golden, got)
	}
	// Every line is one action object with exactly one known key.
	for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil || len(m) != 1 {
			t.Fatalf("line %q: %v", line, err)
		}
	}
}

func TestReplayAddRemoveTxn(t *testing.T) {
	ctx := context.Background()
	st := &memStore{objs: map[string][]byte{}}
	tbl := fixedTable(st)
	add := func(p string) Action { return Action{Add: &Add{Path: p, DataChange: true}} }
	steps := [][]Action{
		{add("a"), add("b"), {Txn: &Txn{AppID: "watch", Version: 1}}},
		{{Remove: &Remove{Path: "a"}}, add("c"), {Txn: &Txn{AppID: "watch", Version: 2}}},
	}
	for _, acts := range steps {
		if _, err := tbl.Commit(ctx, func(*Snapshot) ([]Action, error) { return acts, nil }, nil); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := Load(ctx, st, tbl.Root)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(snap.Paths(), ","); got != "b,c" || snap.Version != 1 || snap.Txns["watch"] != 2 || snap.Metadata == nil {
		t.Fatalf("replay: files %s version %d txn %d", got, snap.Version, snap.Txns["watch"])
	}
	// A plan with nothing to do commits nothing.
	if v, err := tbl.Commit(ctx, func(*Snapshot) ([]Action, error) { return nil, nil }, nil); err != nil || v != -1 {
		t.Fatalf("empty plan: %d %v", v, err)
	}
}

func TestLoadRejectsBrokenLogs(t *testing.T) {
	cases := []struct {
		name string
		objs map[string]string
		want string
	}{
		{"gap", map[string]string{"t/_delta_log/00000000000000000000.json": `{"add":{"path":"a"}}`, "t/_delta_log/00000000000000000002.json": `{"add":{"path":"b"}}`}, "missing entries"},
		{"not json", map[string]string{"t/_delta_log/00000000000000000000.json": "{\"add\":{\"path\":\"a\"}}\nnot json\n"}, "entry 0 of t/: line 2"},
		{"add without path", map[string]string{"t/_delta_log/00000000000000000000.json": `{"add":{"size":3}}`}, "without a path"},
	}
	for _, tc := range cases {
		st := &memStore{objs: map[string][]byte{}}
		for k, v := range tc.objs {
			st.objs[k] = []byte(v)
		}
		_, err := Load(context.Background(), st, "t/")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	// Other tools' actions (cdc, domainMetadata) and checkpoint files are ignored by this reader.
	st := &memStore{objs: map[string][]byte{"t/_delta_log/00000000000000000000.json": []byte(`{"domainMetadata":{"domain":"x"}}` + "\n" + `{"add":{"path":"a"}}`),
		"t/_delta_log/_last_checkpoint": []byte("{}")}}
	if snap, err := Load(context.Background(), st, "t/"); err != nil || len(snap.Files) != 1 {
		t.Fatalf("%v %+v", err, snap)
	}
}

func TestConflictRetriesOnNewerSnapshot(t *testing.T) {
	ctx := context.Background()
	st := &memStore{objs: map[string][]byte{}}
	a, b := fixedTable(st), fixedTable(st)
	if _, err := a.Commit(ctx, func(*Snapshot) ([]Action, error) { return []Action{{Add: &Add{Path: "x"}}}, nil }, nil); err != nil {
		t.Fatal(err)
	}
	// b has not seen version 0: its first attempt at version 0 loses, and
	// the plan runs again on the snapshot that has x.
	var seen []int
	v, err := b.Commit(ctx, func(s *Snapshot) ([]Action, error) {
		seen = append(seen, len(s.Files))
		return []Action{{Add: &Add{Path: "y"}}}, nil
	}, nil)
	if err != nil || v != 1 || seen[len(seen)-1] != 1 {
		t.Fatalf("v %d err %v plans saw %v", v, err, seen)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"add":{"path":"a","size":1,"partitionValues":{"dt":"x"}}}` + "\n" + `{"remove":{"path":"a"}}`))
	f.Add([]byte(`{"metaData":{"id":"x","schemaString":"{}","partitionColumns":["dt"]}}`))
	f.Add([]byte(`{"txn":{"appId":"w","version":3}}` + "\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		acts, err := DecodeEntry(data)
		if err != nil {
			return
		}
		s := emptySnapshot()
		s.apply(0, acts)
		for p, a := range s.Files {
			if p == "" || a.Path != p {
				t.Fatalf("file %q: %+v", p, a)
			}
		}
		// What decodes re-encodes and decodes to the same actions.
		again, err := EncodeEntry(acts)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEntry(again)
		if err != nil || len(back) != len(acts) {
			t.Fatalf("round trip: %v, %d != %d", err, len(back), len(acts))
		}
	})
}
