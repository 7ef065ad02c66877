package lake

import (
	"context"
	"strings"
	"time"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
)

// VacuumReport says what a vacuum deleted.
type VacuumReport struct {
	Removed int `json:"removed_files"` // removed from the table more than retain ago
	Orphans int `json:"orphan_files"`  // never committed (a crash before the commit), older than retain
	Kept    int `json:"kept_files"`    // live, or younger than retain
	Deleted int `json:"deleted"`       // = Removed + Orphans
}

// Vacuum deletes a table's data files that no reader can need any more:
// files removed from the table (replaced, compacted) more than retain ago,
// and files no commit ever added (staged by a run that died before its
// commit) whose last modification is more than retain ago. Retain must
// exceed the longest query and the longest ingest: a younger orphan may be
// an ingest about to commit, a younger removed file a query still reading
// the previous version.
func (in *Ingester) Vacuum(ctx context.Context, tbl *delta.Table, retain time.Duration) (*VacuumReport, error) {
	snap, err := tbl.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	mod, err := in.Store.Modified(ctx, tbl.Root)
	if err != nil {
		return nil, err
	}
	cutoff := tbl.Now().Add(-retain)
	rep := &VacuumReport{}
	for key, m := range mod {
		rel := strings.TrimPrefix(key, tbl.Root)
		if strings.HasPrefix(rel, delta.LogDir) || !strings.HasSuffix(rel, ".parquet") {
			continue
		}
		if _, live := snap.Files[rel]; live {
			rep.Kept++
			continue
		}
		removedAt, removed := snap.Removed[rel]
		switch {
		case removed && time.UnixMilli(removedAt).Before(cutoff):
			rep.Removed++
		case !removed && m.Before(cutoff):
			rep.Orphans++
		default:
			rep.Kept++
			continue
		}
		if err := in.Store.Delete(ctx, key); err != nil {
			return rep, err
		}
		rep.Deleted++
	}
	return rep, nil
}
