package deliver

import (
	"sync"
	"time"
)

type bstate int

const (
	closed   bstate = iota // sending normally
	open                   // target down: send nothing until the next probe
	halfOpen               // a probe may be sent now
)

// breaker is a circuit breaker over the one target. Only the probe's
// outcome moves it out of open: in-flight attempts that fail after it
// opened do not stretch the probe interval.
type breaker struct {
	mu        sync.Mutex
	threshold int
	min, max  time.Duration
	now       func() time.Time

	st        bstate
	fails     int
	interval  time.Duration
	nextProbe time.Time
	probeOut  bool
}

func newBreaker(threshold int, minProbe, maxProbe time.Duration, now func() time.Time) *breaker {
	return &breaker{threshold: threshold, min: minProbe, max: maxProbe, now: now, interval: minProbe}
}

func (b *breaker) state() bstate {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

// permit says what may be sent now: closed (anything), halfOpen (one
// probe) or open (nothing; wait is the time to the next probe).
func (b *breaker) permit() (bstate, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == closed {
		return closed, 0
	}
	if b.probeOut {
		return open, b.max
	}
	if w := b.nextProbe.Sub(b.now()); w > 0 {
		return open, w
	}
	return halfOpen, 0
}

// probing marks the probe as sent.
func (b *breaker) probing() {
	b.mu.Lock()
	b.probeOut = true
	b.mu.Unlock()
}

// result records an attempt's outcome. targetDown: the target did not
// answer usefully (connection error, timeout, 5xx, 429, 404...); false
// means it answered, even if it rejected this one message. It reports
// whether this outcome closed an open breaker.
func (b *breaker) result(targetDown bool) (recovered bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !targetDown {
		recovered = b.st != closed
		b.st, b.fails, b.interval, b.probeOut = closed, 0, b.min, false
		return recovered
	}
	b.fails++
	switch {
	case b.st == closed && b.fails >= b.threshold:
		b.st, b.nextProbe = open, b.now().Add(b.interval)
	case b.st != closed && b.probeOut:
		b.probeOut = false
		b.interval = min(2*b.interval, b.max)
		b.st, b.nextProbe = open, b.now().Add(b.interval)
	}
	return false
}
