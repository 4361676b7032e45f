package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// OrgAPIUsage is an optional ability of the Salesforce CRM: the org's API
// calls in the last 24 hours and its allocation, as Salesforce last
// reported them (Sforce-Limit-Info). *salesforce.Client has it.
type OrgAPIUsage interface {
	OrgAPIUsage() (used, max int64, ok bool)
}

// budgetCacheFor is how long a computed usage share is reused: summing 24
// hours of usage buckets is a store query, too dear for every trigger.
const budgetCacheFor = 30 * time.Second

// budget keeps crmsync inside the Salesforce API allocation
// (Settings.Budget): at StopPercent every trigger waits (it is retried
// with back-off through the queue); at PauseLowPriorityPercent
// low-priority work — the sweep's triggers (changes found late, retries of
// errored records, drift) — waits until usage falls below
// ResumeLowPriorityPercent (hysteresis: between the two, the last state
// holds). The share is crmsync's own counted calls over
// SalesforceDailyLimit when that is set, else the org's usage over its
// allocation as Salesforce reports it; with neither known, nothing waits.
type budget struct {
	mu       sync.Mutex
	paused   bool
	share    float64
	known    bool
	computed time.Time
}

// lowPriority reports whether work of kind k waits first: what the sweep
// found (its changes and drift). Webhooks, deletes, merges and resyncs a
// person asked for go on until the stop threshold.
func lowPriority(k crmsync.TriggerKind) bool { return k == crmsync.KindSweep }

// usage returns the Salesforce usage share in percent.
func (e *Engine) usage(ctx context.Context, b crmsync.APIBudget) (float64, bool, error) {
	now := e.now()
	e.budget.mu.Lock()
	if !e.budget.computed.IsZero() && now.Sub(e.budget.computed) < budgetCacheFor {
		share, known := e.budget.share, e.budget.known
		e.budget.mu.Unlock()
		return share, known, nil
	}
	e.budget.mu.Unlock()
	var share float64
	known := false
	if b.SalesforceDailyLimit > 0 {
		used, err := e.Store.APIUsage(ctx, crmsync.Salesforce, now)
		if err != nil {
			return 0, false, fmt.Errorf("read API usage: %w", err)
		}
		share, known = 100*float64(used)/float64(b.SalesforceDailyLimit), true
	} else if o, ok := e.Salesforce.(OrgAPIUsage); ok {
		if used, max, ok := o.OrgAPIUsage(); ok && max > 0 {
			share, known = 100*float64(used)/float64(max), true
		}
	}
	e.budget.mu.Lock()
	e.budget.share, e.budget.known, e.budget.computed = share, known, now
	e.budget.mu.Unlock()
	return share, known, nil
}

// checkBudget returns a retry error when the trigger must wait for the
// Salesforce budget.
func (e *Engine) checkBudget(ctx context.Context, t crmsync.Trigger, s crmsync.Settings) error {
	b := s.Budget
	share, known, err := e.usage(ctx, b)
	if err != nil || !known {
		return err
	}
	if b.StopPercent > 0 && share >= float64(b.StopPercent) {
		return errRetry{fmt.Sprintf("Salesforce API budget: %.0f%% used (stop at %d%%); waiting for the 24-hour window", share, b.StopPercent)}
	}
	e.budget.mu.Lock()
	switch {
	case b.PauseLowPriorityPercent > 0 && share >= float64(b.PauseLowPriorityPercent):
		e.budget.paused = true
	case share < float64(b.ResumeLowPriorityPercent):
		e.budget.paused = false
	}
	paused := e.budget.paused
	e.budget.mu.Unlock()
	if paused && lowPriority(t.Kind) {
		return errRetry{fmt.Sprintf("Salesforce API budget: %.0f%% used; low-priority work paused until below %d%%", share, b.ResumeLowPriorityPercent)}
	}
	return nil
}
