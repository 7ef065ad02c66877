package lake

import (
	"context"

	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// pipe is a parse.Emitter that hands records to a writer goroutine in
// chunks, so parsing (and decompression) overlap with Parquet encoding
// when more than one core is allowed. Record order is preserved;
// quarantine entries go straight to the batch. A chunk copies the values
// it is lent into one slab, and chunks are recycled once written, so a
// steady stream of records allocates nothing here.
type pipe struct {
	ctx  context.Context
	b    *Batch
	ch   chan *chunk
	free chan *chunk
	cur  *chunk
	done chan error
}

type chunk struct {
	recs []schema.Record
	vals []schema.Value
}

const (
	pipeChunk  = 1024
	pipeChunks = 4 // in flight; one more is being filled
)

func newPipe(ctx context.Context, b *Batch) *pipe {
	p := &pipe{ctx: ctx, b: b, ch: make(chan *chunk, pipeChunks), free: make(chan *chunk, pipeChunks+1), done: make(chan error, 1)}
	for range pipeChunks + 1 {
		p.free <- &chunk{recs: make([]schema.Record, 0, pipeChunk)}
	}
	p.cur = <-p.free
	go func() {
		var err error
		for c := range p.ch {
			if err == nil {
				for _, r := range c.recs {
					if err = b.Record(r); err != nil {
						break // drain after a failure
					}
				}
			}
			c.recs, c.vals = c.recs[:0], c.vals[:0]
			p.free <- c
		}
		p.done <- err
	}()
	return p
}

func (p *pipe) Record(r schema.Record) error {
	c := p.cur
	// When the slab grows, the records before keep their copies in the
	// old one; a recycled chunk has the room already.
	n := len(c.vals)
	c.vals = append(c.vals, r.Values...)
	c.recs = append(c.recs, schema.Record{Time: r.Time, Values: c.vals[n:len(c.vals):len(c.vals)]})
	if len(c.recs) == pipeChunk {
		select {
		case p.ch <- c:
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
		p.cur = <-p.free // the writer always hands chunks back
	}
	return nil
}

func (p *pipe) Bad(b parse.Bad) error { return p.b.Bad(b) }

// close flushes the last chunk and waits for the writer.
func (p *pipe) close() error {
	if len(p.cur.recs) > 0 {
		p.ch <- p.cur
	}
	p.cur = nil
	close(p.ch)
	return <-p.done
}
