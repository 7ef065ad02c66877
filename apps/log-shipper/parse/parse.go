// Package parse turns raw AWS and container log files into schema records.
// Every input line (or JSON element) ends up either as a record or as a
// quarantined Bad entry carrying file, line and reason: nothing is dropped
// silently.
package parse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// MaxLine is the longest line accepted (longer lines are quarantined).
const MaxLine = 1 << 20

// maxRaw bounds the raw text kept with a quarantined line.
const maxRaw = 4096

// Bad is a quarantined input: where it was and why it was rejected.
type Bad struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Raw    string `json:"raw,omitempty"`
}

// Emitter receives the outcome of parsing. An error from it aborts parsing.
// A record's Values are lent for the call: a parser may reuse them for its
// next record, so an emitter that keeps a record keeps a copy
// (schema.Record.Clone).
type Emitter interface {
	Record(schema.Record) error
	Bad(Bad) error
}

// Skipper is implemented by emitters that count the lines that are neither
// records nor bad: format headers and directives. Parsers report every such
// line, so records + bad + skipped accounts for every non-blank line.
type Skipper interface {
	Skipped(kind string)
}

// Skip kinds.
const (
	SkipVPCHeader   = "vpcflow header"
	SkipCFFields    = "cloudfront #Fields"
	SkipCFDirective = "cloudfront # directive"
)

func skipped(out Emitter, kind string) {
	if s, ok := out.(Skipper); ok {
		s.Skipped(kind)
	}
}

// Parser parses one file of a source.
type Parser interface {
	Source() *schema.Source
	// Parse reads r (already decompressed) to the end. It returns an error
	// only when reading fails (a *ReadError, e.g. a truncated gzip stream:
	// records before it have been emitted) or the emitter or ctx aborts.
	Parse(ctx context.Context, r io.Reader, file string, out Emitter) error
}

// ReadError is a failure to read the input after Line complete lines.
type ReadError struct {
	Line int
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("read after line %d: %v", e.Line, e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// New returns the parser of a source name.
func New(source string) (Parser, error) {
	sources := map[string]*schema.Source{}
	for _, s := range schema.Sources() {
		sources[s.Name] = s
	}
	s, ok := sources[source]
	if !ok {
		return nil, fmt.Errorf("no parser for source %q", source)
	}
	switch source {
	case schema.ALB:
		return NewALB(s), nil
	case schema.VPCFlow:
		return &VPCFlow{src: s}, nil
	case schema.CloudFront:
		return &CloudFront{src: s}, nil
	case schema.WAF:
		return &WAF{src: s}, nil
	case schema.CloudTrail:
		return &CloudTrail{src: s}, nil
	case schema.Container:
		return &Container{src: s}, nil
	}
	return nil, fmt.Errorf("no parser for source %q", source)
}

// Collect is an Emitter that keeps everything in memory (tests, small inputs).
type Collect struct {
	Records []schema.Record
	Bads    []Bad
	Skips   map[string]int
}

func (c *Collect) Record(r schema.Record) error { c.Records = append(c.Records, r.Clone()); return nil }
func (c *Collect) Bad(b Bad) error              { c.Bads = append(c.Bads, b); return nil }

// Skipped implements Skipper.
func (c *Collect) Skipped(kind string) {
	if c.Skips == nil {
		c.Skips = map[string]int{}
	}
	c.Skips[kind]++
}

// SkipCount is the number of skipped lines of every kind.
func (c *Collect) SkipCount() int {
	n := 0
	for _, v := range c.Skips {
		n += v
	}
	return n
}

func rawOf(b []byte) string {
	if len(b) > maxRaw {
		b = b[:maxRaw]
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// lineReader yields lines without their \n or \r\n, numbering from 1.
type lineReader struct {
	br      *bufio.Reader
	n       int
	buf     []byte
	tooLong bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line; ok=false at a clean EOF. tooLong is set when
// the line exceeded MaxLine (the returned bytes are its prefix).
func (lr *lineReader) next() (line []byte, ok bool, err error) {
	lr.buf = lr.buf[:0]
	lr.tooLong = false
	for {
		frag, err := lr.br.ReadSlice('\n')
		if err == nil && len(lr.buf) == 0 {
			// A whole line in the reader's buffer: no copy (valid until the
			// next read, like the returned slice always is).
			lr.n++
			return trimEOL(frag), true, nil
		}
		if len(lr.buf)+len(frag) <= MaxLine {
			lr.buf = append(lr.buf, frag...)
		} else {
			lr.tooLong = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			if len(lr.buf) == 0 && !lr.tooLong {
				return nil, false, nil
			}
			lr.n++
			return trimEOL(lr.buf), true, nil
		}
		if err != nil {
			return nil, false, &ReadError{Line: lr.n, Err: err}
		}
		lr.n++
		return trimEOL(lr.buf), true, nil
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// runLines drives a line-oriented format: fn parses one non-blank line; a
// returned error quarantines that line with the error as the reason; a line
// fn does not keep must have been reported to the emitter's Skipper.
func runLines(ctx context.Context, r io.Reader, file string, out Emitter, fn func(line []byte, lineNo int) (schema.Record, bool, error)) error {
	lr := newLineReader(r)
	for {
		line, ok, err := lr.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if lr.n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if lr.tooLong {
			if err := out.Bad(Bad{File: file, Line: lr.n, Reason: fmt.Sprintf("line longer than %d bytes", MaxLine), Raw: rawOf(line)}); err != nil {
				return err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, keep, perr := fn(line, lr.n)
		if perr != nil {
			if err := out.Bad(Bad{File: file, Line: lr.n, Reason: perr.Error(), Raw: rawOf(line)}); err != nil {
				return err
			}
			continue
		}
		if !keep {
			continue
		}
		if err := out.Record(rec); err != nil {
			return err
		}
	}
}
