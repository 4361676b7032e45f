package hubspot

import (
	"context"
	"sync"
	"time"
)

// windowLimiter allows at most n events in any sliding window of length
// per (HubSpot's "rolling" limits). It can also be paused until a time,
// when HubSpot's headers say the window is spent.
type windowLimiter struct {
	mu    sync.Mutex
	n     int
	per   time.Duration
	times []time.Time // send times within the window, oldest first
	until time.Time   // no sends before this
}

func newWindowLimiter(n int, per time.Duration) *windowLimiter {
	if n <= 0 || per <= 0 {
		return nil
	}
	return &windowLimiter{n: n, per: per}
}

// reserve records a send at the earliest allowed time at or after now and
// returns how long the caller must wait for it.
func (l *windowLimiter) reserve(now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	at := now
	if at.Before(l.until) {
		at = l.until
	}
	// Sends are granted in arrival order, so the log stays sorted.
	if k := len(l.times); k > 0 && at.Before(l.times[k-1]) {
		at = l.times[k-1]
	}
	// Drop sends that left the window by the time of this one.
	for len(l.times) > 0 && !l.times[0].Add(l.per).After(at) {
		l.times = l.times[1:]
	}
	if len(l.times) >= l.n {
		at = l.times[len(l.times)-l.n].Add(l.per)
		for len(l.times) > 0 && !l.times[0].Add(l.per).After(at) {
			l.times = l.times[1:]
		}
	}
	l.times = append(l.times, at)
	return at.Sub(now)
}

// pauseUntil holds every later send until t.
func (l *windowLimiter) pauseUntil(t time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.until) {
		l.until = t
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
