package lake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Report summarises an ingest run.
type Report struct {
	Inputs      int            `json:"inputs"`
	Records     int64          `json:"records"`
	Quarantined int64          `json:"quarantined"`
	Files       int            `json:"files"`
	BytesIn     int64          `json:"bytes_in"`
	BySource    map[string]int `json:"records_by_source"`
	Reasons     map[string]int `json:"quarantine_reasons"`
	Objects     []string       `json:"objects"`
	Seconds     float64        `json:"seconds"`
}

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
}

// Run ingests every input. Outputs are independent per input, so inputs
// are processed concurrently without affecting the bytes written.
func (in *Ingester) Run(ctx context.Context, inputs []Input) (*Report, error) {
	start := time.Now()
	rep := &Report{Inputs: len(inputs), BySource: map[string]int{}, Reasons: map[string]int{}, Objects: []string{}}
	var mu sync.Mutex
	var done, records atomic.Int64
	stop := in.progress(len(inputs), &done, &records)
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	workers := in.Workers
	if workers <= 0 {
		workers = 2
	}
	g.SetLimit(workers)
	for _, input := range inputs {
		g.Go(func() error {
			fr, err := in.File(gctx, input)
			if err != nil {
				return fmt.Errorf("ingest %s: %w", input.Name, err)
			}
			done.Add(1)
			records.Add(fr.Records)
			mu.Lock()
			defer mu.Unlock()
			rep.Records += fr.Records
			rep.Quarantined += int64(len(fr.Bad))
			rep.BytesIn += fr.BytesIn
			rep.Files += len(fr.Objects)
			rep.Objects = append(rep.Objects, fr.Objects...)
			if fr.Records > 0 {
				rep.BySource[fr.Source] += int(fr.Records)
			}
			for _, b := range fr.Bad {
				rep.Reasons[ReasonClass(b.Reason)]++
			}
			return nil
		})
	}
	err := g.Wait()
	sort.Strings(rep.Objects)
	rep.Seconds = time.Since(start).Seconds()
	return rep, err
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
	Source  string
	Records int64
	Bad     []parse.Bad
	BytesIn int64
	Objects []string
}

// Batch stages the records of one source into one Parquet file per
// partition, plus the quarantined entries, until Commit names and puts them.
type Batch struct {
	store   Store
	src     *schema.Source
	source  string
	parts   map[string]*partFile
	records int64
	bad     []parse.Bad
	codec   *zstd.Codec
}

type partFile struct {
	f  *os.File
	bw *bufio.Writer
	rw *rowWriter
}

// NewBatch starts a batch for src (nil when the source is unknown: only
// quarantine entries can be added).
func NewBatch(store Store, src *schema.Source, source string) *Batch {
	return &Batch{store: store, src: src, source: source, parts: map[string]*partFile{}, codec: newCodec()}
}

func partitionKey(source string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("source=%s/dt=%s/hour=%s", source, t.Format("2006-01-02"), t.Format("15"))
}

// Record implements parse.Emitter.
func (s *Batch) Record(r schema.Record) error {
	key := partitionKey(s.src.Name, r.Time)
	p, ok := s.parts[key]
	if !ok {
		f, err := os.CreateTemp(s.store.TempDir(), "part-*.parquet.tmp")
		if err != nil {
			return fmt.Errorf("create staging file: %w", err)
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		rw, err := newRowWriter(bw, s.src, s.codec)
		if err != nil {
			f.Close()
			return err
		}
		p = &partFile{f: f, bw: bw, rw: rw}
		s.parts[key] = p
	}
	s.records++
	return p.rw.write(r)
}

// Bad implements parse.Emitter.
func (s *Batch) Bad(b parse.Bad) error {
	s.bad = append(s.bad, b)
	return nil
}

// Records is the number of records added.
func (s *Batch) Records() int64 { return s.records }

// Quarantined returns the quarantined entries added.
func (s *Batch) Quarantined() []parse.Bad { return s.bad }

// Discard removes staged files (safe after Commit).
func (s *Batch) Discard() {
	for k, p := range s.parts {
		p.f.Close()
		os.Remove(p.f.Name())
		delete(s.parts, k)
	}
}

// Commit finishes the staged files and puts them under keys derived from
// id: <partition>/part-<id>.parquet and quarantine/source=<source>/<id>.jsonl.
// The same id and records give the same keys and bytes.
func (s *Batch) Commit(ctx context.Context, id string) ([]string, error) {
	var objects []string
	keys := make([]string, 0, len(s.parts))
	for k := range s.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := s.parts[k]
		if err := p.rw.close(); err != nil {
			return nil, err
		}
		if err := p.bw.Flush(); err != nil {
			return nil, fmt.Errorf("write staging file: %w", err)
		}
		if err := p.f.Sync(); err != nil {
			return nil, fmt.Errorf("sync staging file: %w", err)
		}
		if err := p.f.Close(); err != nil {
			return nil, fmt.Errorf("close staging file: %w", err)
		}
		key := k + "/part-" + id + ".parquet"
		if err := s.store.Put(ctx, key, p.f.Name()); err != nil {
			return nil, err
		}
		delete(s.parts, k)
		objects = append(objects, key)
	}
	if len(s.bad) > 0 {
		key := "quarantine/source=" + s.source + "/" + id + ".jsonl"
		if err := putQuarantine(ctx, s.store, key, s.bad); err != nil {
			return nil, err
		}
		objects = append(objects, key)
	}
	return objects, nil
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
// then name every object after sha256(base name, raw bytes) and put it.
// The same input always yields the same keys and bytes, so a rerun (or a
// rerun after a crash) replaces objects instead of duplicating them.
func (in *Ingester) File(ctx context.Context, input Input) (*FileReport, error) {
	rc, err := input.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	hr := &hashingReader{r: rc, h: sha256.New()}
	hr.h.Write([]byte(input.Base))
	hr.h.Write([]byte{0})
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
	source := in.Source
	if source == "" || source == "auto" {
		head, _ := body.Peek(64 << 10)
		source = parse.Detect(head)
	}
	fr := &FileReport{Source: source}
	var sink *Batch
	defer func() {
		if sink != nil {
			sink.Discard()
		}
	}()
	if gzErr != nil {
		if source == "" {
			source = "unknown"
		}
		sink = NewBatch(in.Store, nil, source)
		sink.bad = append(sink.bad, parse.Bad{File: input.Name, Line: 1, Reason: "invalid gzip header: " + gzErr.Error()})
	} else if source == "" {
		sink = NewBatch(in.Store, nil, "unknown")
		sink.bad = append(sink.bad, parse.Bad{File: input.Name, Line: 1, Reason: "cannot detect the log type (use --type)"})
	} else {
		p, err := parse.New(source)
		if err != nil {
			return nil, err
		}
		if v, ok := p.(*parse.VPCFlow); ok {
			v.FallbackTime = parse.TimeFromName(input.Base)
			v.Format = in.VPCFields
		}
		sink = NewBatch(in.Store, p.Source(), source)
		pp := newPipe(ctx, sink)
		perr := p.Parse(ctx, body, input.Name, pp)
		if werr := pp.close(); werr != nil {
			return nil, werr
		}
		var re *parse.ReadError
		switch {
		case errors.As(perr, &re):
			// e.g. truncated gzip: keep what was read, quarantine the rest.
			sink.bad = append(sink.bad, parse.Bad{File: input.Name, Line: re.Line + 1,
				Reason: fmt.Sprintf("input unreadable after line %d (records before it kept): %v", re.Line, re.Err)})
		case perr != nil:
			return nil, perr
		}
	}
	// Drain to hash the whole raw input (a parser may stop early). A failure
	// to read the raw bytes (network, disk) is not a property of the data:
	// nothing is committed, so a rerun produces the complete objects.
	if _, err := io.Copy(io.Discard, br); err != nil || hr.err != nil {
		return nil, fmt.Errorf("read %s: %w", input.Name, errors.Join(err, hr.err))
	}
	sum := hex.EncodeToString(hr.h.Sum(nil))[:24]
	fr.BytesIn = hr.n
	fr.Records = sink.records
	fr.Bad = sink.bad
	objects, err := sink.Commit(ctx, sum)
	if err != nil {
		return nil, err
	}
	fr.Objects = objects
	if in.Log != nil {
		in.Log.Debug("ingested", "input", input.Name, "source", source, "records", fr.Records, "quarantined", len(fr.Bad))
	}
	return fr, nil
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
		f.Close()
		return fmt.Errorf("write quarantine: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync quarantine: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close quarantine: %w", err)
	}
	return store.Put(ctx, key, f.Name())
}
