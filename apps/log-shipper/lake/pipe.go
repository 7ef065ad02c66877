package lake

import (
	"context"

	"github.com/unsilo/unsilo/apps/log-shipper/parse"
	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// pipe is a parse.Emitter that hands records to a writer goroutine in
// chunks, so parsing (and decompression) overlap with Parquet encoding.
// Record order is preserved; quarantine entries go straight to the batch.
type pipe struct {
	ctx  context.Context
	b    *Batch
	ch   chan []schema.Record
	cur  []schema.Record
	done chan error
}

const pipeChunk = 1024

func newPipe(ctx context.Context, b *Batch) *pipe {
	p := &pipe{ctx: ctx, b: b, ch: make(chan []schema.Record, 4), done: make(chan error, 1), cur: make([]schema.Record, 0, pipeChunk)}
	go func() {
		var err error
		for chunk := range p.ch {
			if err != nil {
				continue // drain after a failure
			}
			for _, r := range chunk {
				if err = b.Record(r); err != nil {
					break
				}
			}
		}
		p.done <- err
	}()
	return p
}

func (p *pipe) Record(r schema.Record) error {
	p.cur = append(p.cur, r)
	if len(p.cur) == pipeChunk {
		select {
		case p.ch <- p.cur:
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
		p.cur = make([]schema.Record, 0, pipeChunk)
	}
	return nil
}

func (p *pipe) Bad(b parse.Bad) error { return p.b.Bad(b) }

// close flushes the last chunk and waits for the writer.
func (p *pipe) close() error {
	if len(p.cur) > 0 {
		p.ch <- p.cur
		p.cur = nil
	}
	close(p.ch)
	return <-p.done
}
