package lake

import (
	"context"
	"fmt"
	"sort"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
)

// Staged is one input whose data and quarantine files are put under their
// final names but not yet committed: invisible to readers until a commit
// adds them.
type Staged struct {
	store          Store
	table          *delta.Table
	input, version string
	qkey           string
	bad            int
	records        int64
	adds           []*delta.Add
	// Objects are the keys put.
	Objects []string
	// Removed and Skipped are set by the commit: files of an earlier
	// version removed, or this version found committed already.
	Removed int
	Skipped bool
}

// Table is the table the input commits to.
func (st *Staged) Table() *delta.Table { return st.table }

// Stage finishes the staged Parquet files and puts them under keys derived
// from the input and its content (table/account=/in_region=/dt=/hour=/
// part-<input id>-<version>.parquet), and the quarantine under
// quarantine/source=<source>/<input id>.jsonl (keyed by input, so a new
// version replaces it; put before the commit so a crash in between loses
// nothing).
func (s *Batch) Stage(ctx context.Context, version string) (*Staged, error) {
	s.last = nil
	st := &Staged{store: s.store, table: s.table, input: s.input, version: version, bad: len(s.bad), records: s.records}
	iid := InputID(s.input)
	keys := make([]string, 0, len(s.parts))
	for k := range s.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := s.parts[k]
		if err := p.rw.Close(); err != nil {
			return nil, fmt.Errorf("write staging file: %w", err)
		}
		if err := p.f.Sync(); err != nil {
			return nil, fmt.Errorf("sync staging file: %w", err)
		}
		fi, err := p.f.Stat()
		if err != nil {
			return nil, fmt.Errorf("stat staging file: %w", err)
		}
		if err := p.f.Close(); err != nil {
			return nil, fmt.Errorf("close staging file: %w", err)
		}
		rel := k + "/part-" + iid + "-" + version + ".parquet"
		if err := s.store.Put(ctx, s.table.Root+rel, p.f.Name()); err != nil {
			return nil, err
		}
		delete(s.parts, k)
		st.Objects = append(st.Objects, s.table.Root+rel)
		st.adds = append(st.adds, &delta.Add{Path: rel, PartitionValues: p.pv,
			Size: fi.Size(), DataChange: true, Stats: delta.Stats(p.rw.Rows()),
			Tags: map[string]string{TagInput: s.input, TagVersion: version}})
	}
	st.qkey = "quarantine/source=" + s.source + "/" + iid + ".jsonl"
	if len(s.bad) > 0 {
		if err := putQuarantine(ctx, s.store, st.qkey, s.bad); err != nil {
			return nil, err
		}
		st.Objects = append(st.Objects, st.qkey)
	}
	return st, nil
}

// plan is the input's part of a commit: remove every file of an earlier
// version of the input (cutting its rows out of compacted files), add its
// files; nothing when this version is committed already.
func (st *Staged) plan(ctx context.Context, snap *delta.Snapshot, now int64) ([]delta.Action, error) {
	var acts []delta.Action
	st.Removed, st.Skipped = 0, false
	same := 0
	for _, p := range snap.Paths() {
		a := snap.Files[p]
		v, ok := inputsOf(a)[st.input]
		if !ok {
			continue
		}
		if v == st.version {
			same++
			continue
		}
		st.Removed++
		if isCompacted(a) {
			// other inputs' rows share the file: rewrite it without ours
			swap, err := without(ctx, st.store, st.table, a, st.input, now)
			if err != nil {
				return nil, err
			}
			acts = append(acts, swap...)
			continue
		}
		acts = append(acts, delta.Action{Remove: &delta.Remove{Path: a.Path, DeletionTimestamp: now, DataChange: true,
			PartitionValues: a.PartitionValues, Size: a.Size, Tags: a.Tags}})
	}
	if st.Removed == 0 && same > 0 {
		st.Skipped = true // this version is in the table already (a rerun)
		return nil, nil
	}
	for _, a := range st.adds {
		a.ModificationTime = now
		acts = append(acts, delta.Action{Add: a})
	}
	return acts, nil
}

// CommitStaged commits staged inputs of one table in one log entry: all of
// them become visible together, or none. When one input appears twice (an
// object overwritten while its notifications were in flight) the last one
// wins; the other's files are never referenced (vacuum removes them).
func CommitStaged(ctx context.Context, tbl *delta.Table, staged []*Staged) (int64, error) {
	last := map[string]int{}
	for i, st := range staged {
		last[st.input] = i
	}
	var records int64
	inputs := 0
	for i, st := range staged {
		if last[st.input] == i {
			records += st.records
			inputs++
		}
	}
	now := tbl.Now().UnixMilli()
	v, err := tbl.Commit(ctx, func(snap *delta.Snapshot) ([]delta.Action, error) {
		var acts []delta.Action
		for i, st := range staged {
			if last[st.input] != i {
				st.Skipped = true
				continue
			}
			a, err := st.plan(ctx, snap, now)
			if err != nil {
				return nil, err
			}
			acts = append(acts, a...)
		}
		return acts, nil
	}, commitInfo(staged, inputs, records))
	if err != nil {
		return 0, err
	}
	for _, st := range staged {
		if st.bad == 0 && st.Removed > 0 {
			// the previous version's quarantine no longer describes the input
			if err := st.store.Delete(ctx, st.qkey); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

func commitInfo(staged []*Staged, inputs int, records int64) map[string]any {
	if len(staged) == 1 {
		st := staged[0]
		return map[string]any{"input": st.input, "inputVersion": st.version, "records": st.records, "quarantined": st.bad}
	}
	return map[string]any{"inputs": inputs, "records": records}
}
