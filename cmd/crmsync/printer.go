package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// Markers put on the lines that need a person: a refusal (a rule or
// setting held a record back; crmsync explain says which) and an error (a
// sync error was recorded, or a warning of the stack).
const (
	markRefused = "REFUSED"
	markWarn    = "WARN   "
	markError   = "ERROR  "
	colourRed   = "\x1b[31m"
	colourAmber = "\x1b[33m"
	colourReset = "\x1b[0m"
)

// printer prints one line per resolved trigger (trigger → decision →
// write), marks refusals and errors, and counts for the summary. It is
// safe for concurrent use.
type printer struct {
	out    io.Writer
	colour bool

	mu      sync.Mutex
	counts  summaryCounts
	waiters []func(engine.Outcome)
}

// summaryCounts are what the summary line reports.
type summaryCounts struct {
	triggers   int
	toSF, toHS int // writes to Salesforce, to HubSpot
	refusals   int
	errors     int
	warnings   int // the stack's warnings: transient failures (retried), dropped webhooks, failed sweeps
}

func newPrinter(out io.Writer) *printer {
	return &printer{out: out, colour: isTerminal(out)}
}

// kind classifies a decision: "" routine, markRefused or markError.
func kind(d engine.Decision) string {
	switch d {
	case engine.DecisionNotEligible, engine.DecisionSkipped:
		return markRefused
	case engine.DecisionFailed:
		return markError
	}
	return ""
}

func (p *printer) print(o engine.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.triggers++
	var writes []string
	for _, w := range o.Writes {
		switch w.Ref.Side {
		case crmsync.Salesforce:
			p.counts.toSF++
		case crmsync.HubSpot:
			p.counts.toHS++
		}
		var fields []string
		for k, v := range w.Properties {
			fields = append(fields, k+"="+fmt.Sprintf("%q", v))
		}
		slices.Sort(fields)
		writes = append(writes, fmt.Sprintf("%s %s {%s}", w.Op, w.Ref, strings.Join(fields, " ")))
	}
	mark := kind(o.Decision)
	switch mark {
	case markRefused:
		p.counts.refusals++
	case markError:
		p.counts.errors++
	}
	line := fmt.Sprintf("%s %s → %s", o.Trigger.Record, o.Trigger.Kind, o.Decision)
	if o.Reason != "" {
		line += " (" + o.Reason + ")"
	}
	if o.Category != "" {
		line += " [" + string(o.Category) + "]"
	}
	if len(writes) > 0 {
		line += " → " + strings.Join(writes, "; ")
	}
	p.line(mark, line)
	for _, w := range p.waiters {
		w(o)
	}
}

// line prints one stamped line with its marker; p.mu is held.
func (p *printer) line(mark, text string) {
	stamp := time.Now().Format("15:04:05.000")
	if mark == "" {
		fmt.Fprintf(p.out, "%s  %s\n", stamp, text)
		return
	}
	if p.colour {
		c := colourAmber
		if mark != markRefused {
			c = colourRed
		}
		fmt.Fprintf(p.out, "%s  %s%s  %s%s\n", stamp, c, mark, text, colourReset)
		return
	}
	fmt.Fprintf(p.out, "%s  %s  %s\n", stamp, mark, text)
}

// summary is the one line printed when the stack stops.
func (p *printer) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	return fmt.Sprintf("summary     %d trigger%s resolved · %d write%s to Salesforce, %d to HubSpot · %d refusal%s · %d error%s · %d warning%s",
		c.triggers, plural(c.triggers), c.toSF, plural(c.toSF), c.toHS, c.refusals, plural(c.refusals), c.errors, plural(c.errors),
		c.warnings, plural(c.warnings))
}

// waitFor returns once an outcome satisfies ok, or fails after d.
func (p *printer) waitFor(ctx context.Context, ok func(engine.Outcome) bool, d time.Duration) error {
	done := make(chan struct{})
	var once sync.Once
	p.mu.Lock()
	p.waiters = append(p.waiters, func(o engine.Outcome) {
		if ok(o) {
			once.Do(func() { close(done) })
		}
	})
	p.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return errors.New("local: no sync happened within " + d.String())
	}
}

func (p *printer) sweep(r sweep.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Skipped {
		p.line("", fmt.Sprintf("sweep skipped: %s holds the lease", r.Holder))
		return
	}
	p.line("", fmt.Sprintf("sweep: %d change(s), %d retry(ies), %d drifted pair(s) enqueued",
		r.Enqueued()-r.Retries-r.Drift.Drifted, r.Retries, r.Drift.Drifted))
}

// logHandler is the stack's logger: warnings and errors only, each on a
// marked line and counted in the summary.
func (p *printer) logHandler() slog.Handler {
	return &markedHandler{p: p}
}

// markedHandler prints log records at warning level and above as marked
// lines of the printer.
type markedHandler struct {
	p     *printer
	attrs []slog.Attr
	group string
}

func (h *markedHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *markedHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		fmt.Fprintf(&b, " %s=%q", key, a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	mark := markWarn
	if r.Level >= slog.LevelError {
		mark = markError
		h.p.counts.errors++
	} else {
		h.p.counts.warnings++
	}
	h.p.line(mark, b.String())
	return nil
}

func (h *markedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &markedHandler{p: h.p, attrs: append(slices.Clone(h.attrs), as...), group: h.group}
}

func (h *markedHandler) WithGroup(name string) slog.Handler {
	g := name
	if h.group != "" {
		g = h.group + "." + name
	}
	return &markedHandler{p: h.p, attrs: h.attrs, group: g}
}
