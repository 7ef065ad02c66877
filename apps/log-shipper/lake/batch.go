package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/apps/log-shipper/pqwrite"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Batch stages the records of one source into one Parquet file per
// partition, plus the quarantined entries, until Commit puts them and
// makes them visible in one Delta commit.
type Batch struct {
	store  Store
	table  *delta.Table // nil when the source is unknown: quarantine only
	source string
	input  string // the input's full name: source_object of every row
	objCol int
	// account/region partition: the record's columns, else the input key's
	acctCol, regionCol    int
	keyAccount, keyRegion string
	parts                 map[string]*partFile
	// the partition of the previous record: consecutive records mostly
	// share one, so its key is not rebuilt for each
	last                 *partFile
	lastHour             int64
	lastAcct, lastRegion string
	records              int64
	bad                  []parse.Bad
	skips                map[string]int
}

type partFile struct {
	pv map[string]string
	f  *os.File
	rw *pqwrite.Writer
}

// NewBatch starts a batch of one input for a table (nil when the source is
// unknown: only quarantine entries can be added).
func NewBatch(store Store, table *delta.Table, source, input string) *Batch {
	b := &Batch{store: store, table: table, source: source, input: input, parts: map[string]*partFile{}, skips: map[string]int{},
		objCol: -1, acctCol: -1, regionCol: -1}
	b.keyAccount, b.keyRegion = schema.FromKey(input)
	if table != nil {
		src := table.Source
		b.objCol = src.MustIndex(schema.SourceObject)
		if src.AccountFrom != "" {
			b.acctCol = src.MustIndex(src.AccountFrom)
		}
		if src.RegionFrom != "" {
			b.regionCol = src.MustIndex(src.RegionFrom)
		}
		if src.FixedRegion != "" {
			b.keyRegion = src.FixedRegion
		}
	}
	return b
}

// DefaultPlace sets the account and region of records whose input and
// columns name none (the intake's container logs: the cluster's own);
// invalid values stay unknown.
func (s *Batch) DefaultPlace(account, region string) {
	if s.keyAccount == schema.Unknown {
		s.keyAccount = schema.Account(account)
	}
	if s.keyRegion == schema.Unknown {
		s.keyRegion = schema.Region(region)
	}
}

// place is a record's account and region partition: its own columns (a
// value or an ARN), else what the input's key says, else unknown.
func (s *Batch) place(r schema.Record) (account, region string) {
	account, region = s.keyAccount, s.keyRegion
	if s.acctCol >= 0 {
		if v := r.Values[s.acctCol]; !v.Null() {
			a := v.Str
			if _, fromARN := schema.FromARN(a); fromARN != "" {
				a = fromARN
			}
			if x := schema.Account(a); x != schema.Unknown {
				account = x
			}
		}
	}
	if s.regionCol >= 0 {
		if v := r.Values[s.regionCol]; !v.Null() {
			g := v.Str
			if fromARN, _ := schema.FromARN(g); fromARN != "" {
				g = fromARN
			}
			if x := schema.Region(g); x != schema.Unknown {
				region = x
			}
		}
	}
	return account, region
}

func partitionKey(account, region string, t time.Time) (key string, pv map[string]string) {
	t = t.UTC()
	dt, hour := t.Format("2006-01-02"), t.Format("15")
	return "account=" + account + "/in_region=" + region + "/dt=" + dt + "/hour=" + hour,
		map[string]string{"account": account, "in_region": region, "dt": dt, "hour": hour}
}

// Record implements parse.Emitter.
func (s *Batch) Record(r schema.Record) error {
	account, region := s.place(r)
	hour := floorDiv(r.Time.Unix(), 3600)
	p := s.last
	if p == nil || hour != s.lastHour || account != s.lastAcct || region != s.lastRegion {
		key, pv := partitionKey(account, region, r.Time)
		var ok bool
		if p, ok = s.parts[key]; !ok {
			f, err := os.CreateTemp(s.store.TempDir(), "part-*.parquet.tmp")
			if err != nil {
				return fmt.Errorf("create staging file: %w", err)
			}
			rw, err := newWriter(f, s.table.Source)
			if err != nil {
				_ = f.Close()
				os.Remove(f.Name())
				return err
			}
			p = &partFile{pv: pv, f: f, rw: rw}
			s.parts[key] = p
		}
		s.last, s.lastHour, s.lastAcct, s.lastRegion = p, hour, account, region
	}
	s.records++
	r.Values[s.objCol] = schema.StringOf(s.input)
	return p.rw.Write(r.Values)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Bad implements parse.Emitter.
func (s *Batch) Bad(b parse.Bad) error {
	s.bad = append(s.bad, b)
	return nil
}

// Skipped implements parse.Skipper.
func (s *Batch) Skipped(kind string) { s.skips[kind]++ }

// Records is the number of records added.
func (s *Batch) Records() int64 { return s.records }

// Quarantined returns the quarantined entries added.
func (s *Batch) Quarantined() []parse.Bad { return s.bad }

// Skips returns the skipped lines (headers, directives) by kind.
func (s *Batch) Skips() map[string]int { return s.skips }

// Discard removes staged files (safe after Commit).
func (s *Batch) Discard() {
	s.last = nil
	for k, p := range s.parts {
		_ = p.f.Close() // discarded: only the removal matters
		os.Remove(p.f.Name())
		delete(s.parts, k)
	}
}

// InputID is the stable identity of an input (its full name): every
// version of it has the same id, so a grown or rewritten input replaces
// the rows of the previous version.
func InputID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])[:16]
}

// Delta add-action tags that tie a data file to the input it came from.
const (
	TagInput   = "log-shipper.input"   // the input's full name
	TagVersion = "log-shipper.version" // content hash of the input version
)

// Committed is what a commit did.
type Committed struct {
	Objects []string // data and quarantine keys put
	Version int64    // Delta version, -1 when nothing was committed
	Removed int      // data files of an earlier version of the input
	Skipped bool     // this exact version was already committed
}

// Commit stages the batch and commits it alone (see Stage and
// CommitStaged). The same id and records always give the same keys and
// bytes; committing the same input and content again is a no-op.
func (s *Batch) Commit(ctx context.Context, version string) (*Committed, error) {
	st, err := s.Stage(ctx, version)
	if err != nil {
		return nil, err
	}
	if s.table == nil {
		return &Committed{Objects: st.Objects, Version: -1}, nil
	}
	v, err := CommitStaged(ctx, s.table, []*Staged{st})
	if err != nil {
		return nil, err
	}
	return &Committed{Objects: st.Objects, Version: v, Removed: st.Removed, Skipped: st.Skipped}, nil
}

func putQuarantine(ctx context.Context, store Store, key string, bad []parse.Bad) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, b := range bad {
		if err := enc.Encode(b); err != nil {
			return fmt.Errorf("encode quarantine entry: %w", err)
		}
	}
	f, err := os.CreateTemp(store.TempDir(), "quarantine-*.tmp")
	if err != nil {
		return fmt.Errorf("create quarantine staging file: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		_ = f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write quarantine %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("sync quarantine %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("close quarantine %s: %w", key, err)
	}
	return store.Put(ctx, key, f.Name())
}
