package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// TagInputs is the add-action tag of a compacted file: a JSON object of
// every input whose rows it holds, input name -> content version.
const TagInputs = "log-shipper.inputs"

// inputsOf returns the inputs (and their versions) whose rows a file holds.
func inputsOf(a *delta.Add) map[string]string {
	if in, ok := a.Tags[TagInput]; ok {
		return map[string]string{in: a.Tags[TagVersion]}
	}
	m := map[string]string{}
	_ = json.Unmarshal([]byte(a.Tags[TagInputs]), &m) // absent or foreign: no inputs
	return m
}

func inputsTags(m map[string]string) map[string]string {
	if len(m) == 1 {
		for in, v := range m {
			return map[string]string{TagInput: in, TagVersion: v}
		}
	}
	b, _ := json.Marshal(m) // map keys sort: the same inputs give the same tag
	return map[string]string{TagInputs: string(b)}
}

// CompactReport says what a compaction did.
type CompactReport struct {
	Partitions int   `json:"partitions"`
	FilesIn    int   `json:"files_in"`
	FilesOut   int   `json:"files_out"`
	BytesIn    int64 `json:"bytes_in"`
	BytesOut   int64 `json:"bytes_out"`
}

// Compact rewrites, per partition, the files smaller than target into as
// few files as fit target bytes each, each group in one commit that removes
// the small files and adds the merged one (dataChange false: the rows are
// the same). Readers see the old files or the new one, never both or
// neither. The merged file keeps every row's source_object, so a grown
// input still replaces exactly its rows afterwards.
func (in *Ingester) Compact(ctx context.Context, src *schema.Source, target int64) (*CompactReport, error) {
	tbl := in.Table(src)
	snap, err := tbl.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	byPart := map[string][]*delta.Add{}
	for _, p := range snap.Paths() {
		if a := snap.Files[p]; a.Size < target {
			byPart[path.Dir(p)] = append(byPart[path.Dir(p)], a)
		}
	}
	parts := make([]string, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	rep := &CompactReport{}
	for _, part := range parts {
		var group []*delta.Add
		var size int64
		flush := func() error {
			if len(group) >= 2 {
				n, err := in.merge(ctx, tbl, part, group)
				if err != nil {
					return err
				}
				rep.FilesIn += len(group)
				rep.FilesOut++
				rep.BytesIn += size
				rep.BytesOut += n
			}
			group, size = nil, 0
			return nil
		}
		before := rep.FilesOut
		for _, a := range byPart[part] {
			if size+a.Size > target && len(group) > 0 {
				if err := flush(); err != nil {
					return rep, err
				}
			}
			group = append(group, a)
			size += a.Size
		}
		if err := flush(); err != nil {
			return rep, err
		}
		if rep.FilesOut > before {
			rep.Partitions++
		}
	}
	return rep, nil
}

// merge writes the rows of files into one file and commits the swap.
func (in *Ingester) merge(ctx context.Context, tbl *delta.Table, part string, files []*delta.Add) (int64, error) {
	h := sha256.New()
	inputs := map[string]string{}
	var recs []schema.Record
	for _, a := range files {
		h.Write([]byte(a.Path + "\x00"))
		for k, v := range inputsOf(a) {
			inputs[k] = v
		}
		rs, err := readData(ctx, in.Store, tbl, a.Path)
		if err != nil {
			return 0, err
		}
		recs = append(recs, rs...)
	}
	rel := part + "/compact-" + hex.EncodeToString(h.Sum(nil))[:24] + ".parquet"
	add, err := writeData(ctx, in.Store, tbl, rel, files[0].PartitionValues, recs, inputs)
	if err != nil {
		return 0, err
	}
	add.DataChange = false
	now := tbl.Now().UnixMilli()
	_, err = tbl.Commit(ctx, func(snap *delta.Snapshot) ([]delta.Action, error) {
		acts := []delta.Action{}
		for _, a := range files {
			if snap.Files[a.Path] == nil {
				return nil, nil // changed meanwhile (replaced by an ingest): leave this group for next time
			}
			acts = append(acts, delta.Action{Remove: &delta.Remove{Path: a.Path, DeletionTimestamp: now, DataChange: false,
				PartitionValues: a.PartitionValues, Size: a.Size, Tags: a.Tags}})
		}
		add.ModificationTime = now
		return append(acts, delta.Action{Add: add}), nil
	}, map[string]any{"operation": "OPTIMIZE", "filesIn": len(files)})
	if err != nil {
		return 0, err
	}
	return add.Size, nil
}

// readData reads the records of a table's data file.
func readData(ctx context.Context, st Store, tbl *delta.Table, rel string) ([]schema.Record, error) {
	b, err := st.Get(ctx, tbl.Root+rel)
	if err != nil {
		return nil, fmt.Errorf("read %s%s: %w", tbl.Root, rel, err)
	}
	return ReadFile(bytes.NewReader(b), int64(len(b)), tbl.Source)
}

// writeData writes records as one data file of the table and returns its
// add action (not yet committed).
func writeData(ctx context.Context, st Store, tbl *delta.Table, rel string, pv map[string]string, recs []schema.Record, inputs map[string]string) (*delta.Add, error) {
	f, err := os.CreateTemp(st.TempDir(), "rewrite-*.parquet.tmp")
	if err != nil {
		return nil, fmt.Errorf("create staging file: %w", err)
	}
	defer os.Remove(f.Name())
	rw, err := newWriter(f, tbl.Source)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	for _, r := range recs {
		if err := rw.Write(r.Values); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	if err := rw.Close(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write staging file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sync staging file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("stat staging file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close staging file: %w", err)
	}
	if err := st.Put(ctx, tbl.Root+rel, f.Name()); err != nil {
		return nil, err
	}
	return &delta.Add{Path: rel, PartitionValues: pv, Size: fi.Size(), DataChange: true, Stats: delta.Stats(int64(len(recs))), Tags: inputsTags(inputs)}, nil
}

// without rewrites a compacted file without the rows of one input (copy on
// write) and returns the actions that swap it, or only its removal when no
// row is left.
func without(ctx context.Context, st Store, tbl *delta.Table, a *delta.Add, input string, now int64) ([]delta.Action, error) {
	recs, err := readData(ctx, st, tbl, a.Path)
	if err != nil {
		return nil, err
	}
	col := tbl.Source.MustIndex(schema.SourceObject)
	keep := recs[:0]
	for _, r := range recs {
		if r.Values[col].Str != input {
			keep = append(keep, r)
		}
	}
	acts := []delta.Action{{Remove: &delta.Remove{Path: a.Path, DeletionTimestamp: now, DataChange: true, PartitionValues: a.PartitionValues, Size: a.Size, Tags: a.Tags}}}
	if len(keep) == 0 {
		return acts, nil
	}
	inputs := inputsOf(a)
	delete(inputs, input)
	sum := sha256.Sum256([]byte(a.Path + "\x00without\x00" + input))
	rel := path.Dir(a.Path) + "/compact-" + hex.EncodeToString(sum[:])[:24] + ".parquet"
	add, err := writeData(ctx, st, tbl, rel, a.PartitionValues, keep, inputs)
	if err != nil {
		return nil, err
	}
	add.ModificationTime = now
	return append(acts, delta.Action{Add: add}), nil
}

// isCompacted reports whether a data file holds several inputs.
func isCompacted(a *delta.Add) bool { return strings.TrimSpace(a.Tags[TagInputs]) != "" }
