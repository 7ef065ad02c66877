package lake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/unsilo/unsilo/apps/log-shipper/delta"
	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Report summarises an ingest run. It is complete even when inputs failed:
// Failed names each one with its error.
type Report struct {
	Inputs      int            `json:"inputs"`
	Records     int64          `json:"records"`
	Quarantined int64          `json:"quarantined"`
	Skipped     map[string]int `json:"skipped_lines"`
	Files       int            `json:"files"`
	BytesIn     int64          `json:"bytes_in"`
	BySource    map[string]int `json:"records_by_source"`
	Reasons     map[string]int `json:"quarantine_reasons"`
	Replaced    int            `json:"replaced_files"`
	Unchanged   int            `json:"unchanged_inputs"`
	Digests     int            `json:"cloudtrail_digests"`
	Failed      []Failure      `json:"failed"`
	Objects     []string       `json:"objects"`
	Seconds     float64        `json:"seconds"`
}

// Failure is an input that could not be ingested (nothing of it committed).
type Failure struct {
	Input string `json:"input"`
	Error string `json:"error"`
}

// ErrInputsFailed is returned by Run when some inputs failed; the report
// lists them.
var ErrInputsFailed = errors.New("some inputs failed")

// Ingester turns input files into lake objects.
type Ingester struct {
	Store    Store
	Source   string // a schema source name, or "auto"
	Log      *slog.Logger
	Progress io.Writer // periodic progress lines; nil for none
	Workers  int
	// VPCFields is the field list of headerless VPC Flow Log files (a header
	// line in the file still wins); empty means the default v2 format.
	VPCFields []string
	// MaxInputBytes quarantines an input whose raw size is larger (0: no
	// limit beyond the parsers' own).
	MaxInputBytes int64
	// MaxDocumentBytes bounds a JSON document read whole (a CloudTrail
	// file, a JSON-array body); a larger one is quarantined whole. 0:
	// parse.MaxDocument (512 MiB).
	MaxDocumentBytes int64

	mu     sync.Mutex
	tables map[string]*delta.Table
}

// Table returns the Delta table of a source in this ingester's store (one
// per source, shared by all workers so their commits are serialised).
func (in *Ingester) Table(src *schema.Source) *delta.Table {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.tables == nil {
		in.tables = map[string]*delta.Table{}
	}
	t, ok := in.tables[src.Name]
	if !ok {
		t = delta.NewTable(in.Store, src)
		in.tables[src.Name] = t
	}
	return t
}

// Run ingests every input. Inputs are independent: each is committed on
// its own, so one that fails (a read error, a full disk) is reported in
// the summary and the others carry on. The error is ErrInputsFailed then,
// or the context's error when the run was cancelled.
func (in *Ingester) Run(ctx context.Context, inputs []Input) (*Report, error) {
	start := time.Now()
	rep := &Report{Inputs: len(inputs), BySource: map[string]int{}, Reasons: map[string]int{}, Skipped: map[string]int{},
		Objects: []string{}, Failed: []Failure{}}
	var mu sync.Mutex
	var done, records atomic.Int64
	stop := in.progress(len(inputs), &done, &records)
	defer stop()
	workers := in.Workers
	if workers <= 0 {
		workers = 2
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, input := range inputs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fr, err := in.File(ctx, input)
			done.Add(1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				rep.Failed = append(rep.Failed, Failure{Input: input.Name, Error: err.Error()})
				return
			}
			records.Add(fr.Records)
			rep.add(fr)
		}()
	}
	wg.Wait()
	sort.Strings(rep.Objects)
	sort.Slice(rep.Failed, func(i, j int) bool { return rep.Failed[i].Input < rep.Failed[j].Input })
	rep.Seconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if len(rep.Failed) > 0 {
		return rep, ErrInputsFailed
	}
	return rep, nil
}

func (rep *Report) add(fr *FileReport) {
	if fr.Unchanged { // already in the table: nothing written
		rep.Unchanged++
		rep.BytesIn += fr.BytesIn
		return
	}
	rep.Records += fr.Records
	rep.Quarantined += int64(len(fr.Bad))
	rep.BytesIn += fr.BytesIn
	rep.Files += len(fr.Objects)
	rep.Objects = append(rep.Objects, fr.Objects...)
	rep.Replaced += fr.Replaced
	if fr.Digest {
		rep.Digests++
	}
	if fr.Records > 0 {
		rep.BySource[fr.Source] += int(fr.Records)
	}
	for k, v := range fr.Skipped {
		rep.Skipped[k] += v
	}
	for _, b := range fr.Bad {
		rep.Reasons[ReasonClass(b.Reason)]++
	}
}

func (in *Ingester) progress(total int, done, records *atomic.Int64) func() {
	if in.Progress == nil {
		return func() {}
	}
	t := time.NewTicker(2 * time.Second)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fmt.Fprintf(in.Progress, "log-shipper: %d/%d inputs, %d records\n", done.Load(), total, records.Load())
			}
		}
	}()
	return func() { t.Stop(); close(quit); wg.Wait() }
}

var digits = regexp.MustCompile(`[0-9]+`)
var quoted = regexp.MustCompile(`"[^"]*"`)

// ReasonClass groups quarantine reasons: numbers and quoted values elided.
func ReasonClass(reason string) string {
	r := quoted.ReplaceAllString(reason, `"…"`)
	r = digits.ReplaceAllString(r, "N")
	if len(r) > 120 {
		r = r[:120]
	}
	return r
}

// FileReport is the outcome of one input.
type FileReport struct {
	Source    string
	Records   int64
	Bad       []parse.Bad
	Skipped   map[string]int
	BytesIn   int64
	Objects   []string
	Replaced  int  // files of an earlier version of this input removed
	Unchanged bool // this version was committed before: nothing written
	Digest    bool // a CloudTrail digest file (integrity data, not logs)
}

// hashingReader hashes everything read through it.
type hashingReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	err error // first raw read error
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if err != nil && err != io.EOF && h.err == nil {
		h.err = err
	}
	return n, err
}

// File ingests one input: parse, stage one Parquet file per partition,
// put them under names derived from the input and its content, and commit
// them in one Delta entry that replaces any earlier version of the input.
// An input over a limit, of the wrong content or unreadable as data is
// quarantined whole (with the reason) and the run carries on; a failure
// to read or write bytes (network, disk) returns an error and commits
// nothing.
func (in *Ingester) File(ctx context.Context, input Input) (*FileReport, error) {
	fr, st, err := in.Stage(ctx, input)
	if err != nil || st == nil {
		return fr, err
	}
	v, err := CommitStaged(ctx, st.table, []*Staged{st})
	if err != nil {
		return nil, err
	}
	Settle(fr, st)
	if in.Log != nil {
		in.Log.Debug("ingested", "input", input.Name, "source", fr.Source, "records", fr.Records, "quarantined", len(fr.Bad), "version", v)
	}
	return fr, nil
}

// Settle copies a committed input's outcome into its report.
func Settle(fr *FileReport, st *Staged) { fr.Replaced, fr.Unchanged = st.Removed, st.Skipped }

// Stage is File up to the commit: the input's files are put, and its
// Staged (nil when there is nothing to commit: a digest, or an input
// quarantined whole) goes to CommitStaged with others of the same table, so
// that several inputs become visible in one log entry.
func (in *Ingester) Stage(ctx context.Context, input Input) (*FileReport, *Staged, error) {
	if in.MaxInputBytes > 0 && input.Size > in.MaxInputBytes {
		fr, err := in.quarantineWhole(ctx, input, in.sourceOrUnknown(), input.Size,
			fmt.Sprintf("input of %d bytes is over the %d-byte limit (--max-input-bytes): quarantined whole, nothing ingested", input.Size, in.MaxInputBytes))
		return fr, nil, err
	}
	rc, err := input.Open(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	hr := &hashingReader{r: rc, h: sha256.New()}
	br := bufio.NewReaderSize(hr, 256<<10)
	var r io.Reader = br
	var gzErr error
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			gzErr = err
			r = bytes.NewReader(nil)
		} else {
			defer zr.Close()
			r = zr
		}
	}
	body := bufio.NewReaderSize(r, 256<<10)
	head, _ := body.Peek(64 << 10)
	source := in.Source
	if source == "" || source == "auto" {
		source = parse.Detect(head)
	}
	fr := &FileReport{Source: source}
	var sink *Batch
	defer func() {
		if sink != nil {
			sink.Discard()
		}
	}()
	whole := func(src, reason string) {
		sink = NewBatch(in.Store, nil, src, input.Name)
		sink.bad = append(sink.bad, parse.Bad{File: input.Name, Line: 1, Reason: reason})
	}
	switch {
	case gzErr != nil:
		whole(in.sourceOr(source), "invalid gzip header: "+gzErr.Error())
	case source == parse.CloudTrailDigest || (source == schema.CloudTrail && parse.Detect(head) == parse.CloudTrailDigest):
		// Digest files are CloudTrail's signed hash chain, not events: not
		// data for the table, and never bad data.
		fr.Source, fr.Digest = parse.CloudTrailDigest, true
		sink = NewBatch(in.Store, nil, parse.CloudTrailDigest, input.Name)
	case source == "":
		whole("unknown", "cannot detect the log type (use --type)")
	default:
		if err := parse.CheckContent(source, head); err != nil {
			whole(source, err.Error())
			break
		}
		p, err := parse.New(source)
		if err != nil {
			return nil, nil, err
		}
		if v, ok := p.(*parse.VPCFlow); ok {
			v.FallbackTime = parse.TimeFromName(input.Base)
			v.Format = in.VPCFields
		}
		if d, ok := p.(parse.DocumentLimiter); ok && in.MaxDocumentBytes > 0 {
			d.SetMaxDocument(in.MaxDocumentBytes)
		}
		sink = NewBatch(in.Store, in.Table(p.Source()), source, input.Name)
		perr, werr := parseInto(ctx, p, body, input.Name, sink)
		if werr != nil {
			return nil, nil, werr
		}
		var re *parse.ReadError
		var le *parse.LimitError
		switch {
		case errors.As(perr, &le):
			sink.Discard()
			whole(source, le.Error()+": quarantined whole, nothing ingested")
		case errors.As(perr, &re):
			// e.g. truncated gzip: keep what was read, quarantine the rest.
			sink.bad = append(sink.bad, parse.Bad{File: input.Name, Line: re.Line + 1,
				Reason: fmt.Sprintf("input unreadable after line %d (records before it kept): %v", re.Line, re.Err)})
		case perr != nil:
			return nil, nil, perr
		}
	}
	// Drain to hash the whole raw input (a parser may stop early). A failure
	// to read the raw bytes (network, disk) is not a property of the data:
	// nothing is committed, so a rerun produces the complete objects.
	if _, err := io.Copy(io.Discard, br); err != nil || hr.err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", input.Name, errors.Join(err, hr.err))
	}
	fr.BytesIn = hr.n
	fr.Records, fr.Bad, fr.Skipped = sink.records, sink.bad, sink.skips
	if fr.Digest {
		return fr, nil, nil
	}
	st, err := sink.Stage(ctx, hex.EncodeToString(hr.h.Sum(nil))[:16])
	if err != nil {
		return nil, nil, err
	}
	fr.Objects = st.Objects
	if st.table == nil {
		return fr, nil, nil
	}
	return fr, st, nil
}

// parseInto parses r into the batch: through a pipe, so that parsing and
// encoding overlap, when more than one core is allowed; directly on one,
// where the hand-off would only add goroutine switches. perr is the
// parser's error (a batch's error aborts the parser and comes back as
// perr when there is no pipe), werr the pipe's writer's.
func parseInto(ctx context.Context, p parse.Parser, r io.Reader, name string, b *Batch) (perr, werr error) {
	if runtime.GOMAXPROCS(0) == 1 {
		return p.Parse(ctx, r, name, b), nil
	}
	pp := newPipe(ctx, b)
	perr = p.Parse(ctx, r, name, pp)
	return perr, pp.close()
}

func (in *Ingester) sourceOrUnknown() string { return in.sourceOr("") }

func (in *Ingester) sourceOr(detected string) string {
	switch {
	case detected != "":
		return detected
	case in.Source != "" && in.Source != "auto":
		return in.Source
	}
	return "unknown"
}

// quarantineWhole records an input that is not read at all.
func (in *Ingester) quarantineWhole(ctx context.Context, input Input, source string, size int64, reason string) (*FileReport, error) {
	b := NewBatch(in.Store, nil, source, input.Name)
	b.bad = append(b.bad, parse.Bad{File: input.Name, Line: 1, Reason: reason})
	c, err := b.Commit(ctx, "whole")
	if err != nil {
		return nil, err
	}
	return &FileReport{Source: source, Bad: b.bad, BytesIn: size, Objects: c.Objects}, nil
}
