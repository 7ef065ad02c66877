// Package delta writes and reads the Delta Lake transaction log of the
// lake's tables (one table per source, ROOT/source=<name>/). A commit is
// one new log entry _delta_log/<20-digit version>.json created only if
// absent (a local hard link, an S3 conditional PUT), so every set of files
// it adds and removes becomes visible at once, to Athena (which reads Delta
// tables natively through Glue) and to log-shipper's DuckDB views (which
// replay the same log), or not at all. Only what the lake needs of the
// protocol is implemented: reader version 1, writer version 2, add/remove
// with tags, txn, metaData, protocol, commitInfo; no checkpoints, deletion
// vectors or column mapping.
package delta

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Store is what the log needs from object storage. Keys are relative to
// the lake root, slash separated.
type Store interface {
	// PutIfAbsent creates key with data, or returns ErrExists.
	PutIfAbsent(ctx context.Context, key string, data []byte) error
	// Get returns the object's bytes (an error wrapping ErrNotFound if absent).
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns the keys under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Errors of Store implementations.
var (
	ErrExists   = errors.New("object exists")
	ErrNotFound = errors.New("object not found")
)

// Protocol action: the lowest versions that read and write these tables.
type Protocol struct {
	MinReaderVersion int `json:"minReaderVersion"`
	MinWriterVersion int `json:"minWriterVersion"`
}

// Format of the data files.
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

// Metadata action: the table's identity, schema and partitioning.
type Metadata struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      int64             `json:"createdTime,omitempty"`
}

// Add action: a data file becomes part of the table.
type Add struct {
	Path             string            `json:"path"`
	PartitionValues  map[string]string `json:"partitionValues"`
	Size             int64             `json:"size"`
	ModificationTime int64             `json:"modificationTime"`
	DataChange       bool              `json:"dataChange"`
	Stats            string            `json:"stats,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
}

// Remove action: a data file stops being part of the table.
type Remove struct {
	Path              string            `json:"path"`
	DeletionTimestamp int64             `json:"deletionTimestamp"`
	DataChange        bool              `json:"dataChange"`
	PartitionValues   map[string]string `json:"partitionValues,omitempty"`
	Size              int64             `json:"size,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
}

// Txn action: the last version an application committed (exactly-once
// checkpoints: a writer records its own progress in the same commit as its
// data).
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated int64  `json:"lastUpdated,omitempty"`
}

// Action is one line of a log entry; exactly one field is set.
type Action struct {
	Protocol   *Protocol      `json:"protocol,omitempty"`
	MetaData   *Metadata      `json:"metaData,omitempty"`
	Add        *Add           `json:"add,omitempty"`
	Remove     *Remove        `json:"remove,omitempty"`
	Txn        *Txn           `json:"txn,omitempty"`
	CommitInfo map[string]any `json:"commitInfo,omitempty"`
}

// LogDir is the log directory under a table root.
const LogDir = "_delta_log/"

// entryKey is the log entry of a version under table (a slash-ended prefix).
func entryKey(table string, version int64) string {
	return fmt.Sprintf("%s%s%020d.json", table, LogDir, version)
}

// parseEntryKey returns the version of a log entry key, or false.
func parseEntryKey(key string) (int64, bool) {
	i := strings.LastIndex(key, LogDir)
	if i < 0 {
		return 0, false
	}
	name := key[i+len(LogDir):]
	digits, ok := strings.CutSuffix(name, ".json")
	if !ok || len(digits) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}

// EncodeEntry renders actions as a log entry: one JSON object per line.
func EncodeEntry(actions []Action) ([]byte, error) {
	var b bytes.Buffer
	for _, a := range actions {
		line, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encode delta action: %w", err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// DecodeEntry parses a log entry. Unknown action kinds (written by other
// tools: cdc, domainMetadata, ...) are skipped, as the protocol asks of a
// reader that does not use them; a line that is not a JSON object fails
// with its line number.
func DecodeEntry(data []byte) ([]Action, error) {
	var out []Action
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var a Action
		if err := json.Unmarshal(line, &a); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if a.Add != nil && a.Add.Path == "" || a.Remove != nil && a.Remove.Path == "" {
			return nil, fmt.Errorf("line %d: add/remove without a path", n)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read entry: %w", err)
	}
	return out, nil
}

// Snapshot is a table's state at a version: its metadata and live files.
type Snapshot struct {
	Version  int64 // -1: the table does not exist yet
	Metadata *Metadata
	Protocol *Protocol
	Files    map[string]*Add  // by path
	Txns     map[string]int64 // appId -> version
	// Removed are the files no longer in the table, by path, with the time
	// (Unix ms) they were removed: what a vacuum may delete.
	Removed map[string]int64
}

func emptySnapshot() *Snapshot {
	return &Snapshot{Version: -1, Files: map[string]*Add{}, Txns: map[string]int64{}, Removed: map[string]int64{}}
}

// apply replays one entry onto the snapshot.
func (s *Snapshot) apply(version int64, actions []Action) {
	for _, a := range actions {
		switch {
		case a.Protocol != nil:
			s.Protocol = a.Protocol
		case a.MetaData != nil:
			s.Metadata = a.MetaData
		case a.Add != nil:
			s.Files[a.Add.Path] = a.Add
			delete(s.Removed, a.Add.Path)
		case a.Remove != nil:
			delete(s.Files, a.Remove.Path)
			s.Removed[a.Remove.Path] = a.Remove.DeletionTimestamp
		case a.Txn != nil:
			s.Txns[a.Txn.AppID] = a.Txn.Version
		}
	}
	s.Version = version
}

// Paths returns the live data files, sorted.
func (s *Snapshot) Paths() []string {
	out := make([]string, 0, len(s.Files))
	for p := range s.Files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Load replays the log of the table rooted at table (a slash-ended key
// prefix such as "source=alb/"). A table without a log is an empty
// snapshot at version -1.
func Load(ctx context.Context, st Store, table string) (*Snapshot, error) {
	s := emptySnapshot()
	return s, s.update(ctx, st, table)
}

// update replays the entries after s.Version. Entries must be contiguous:
// a gap means a log that was tampered with or cut, which no reader should
// guess around.
func (s *Snapshot) update(ctx context.Context, st Store, table string) error {
	keys, err := st.List(ctx, table+LogDir)
	if err != nil {
		return fmt.Errorf("list delta log of %s: %w", table, err)
	}
	var versions []int64
	for _, k := range keys {
		if v, ok := parseEntryKey(k); ok && v > s.Version {
			versions = append(versions, v)
		}
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	for _, v := range versions {
		if v != s.Version+1 {
			return fmt.Errorf("delta log of %s: version %d follows %d (missing entries; checkpoints are not supported)", table, v, s.Version)
		}
		data, err := st.Get(ctx, entryKey(table, v))
		if err != nil {
			return fmt.Errorf("read delta log entry %d of %s: %w", v, table, err)
		}
		actions, err := DecodeEntry(data)
		if err != nil {
			return fmt.Errorf("delta log entry %d of %s: %w", v, table, err)
		}
		s.apply(v, actions)
	}
	return nil
}
