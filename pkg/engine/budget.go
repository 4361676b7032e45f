package engine

import (
	"context"
	"errors"
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

// SuspendFor is how long every Salesforce call waits after Salesforce
// answered REQUEST_LIMIT_EXCEEDED (the allocation is spent; its 24-hour
// window frees calls gradually): then one trigger tries again.
const SuspendFor = 15 * time.Minute

// Priority is a class of work for the Salesforce API budget. Each class
// pauses at its own share of the allocation (Settings.Budget) and resumes
// below the resume share; paused work waits on the queue (retried with
// back-off) and is never dropped.
type Priority int

// Priorities, most important first.
const (
	// P0: record creations (a new contact, company or deal).
	P0 Priority = iota
	// P1: field updates, deletes, merges, association changes, a person's
	// resync of one record.
	P1
	// P2: activities.
	P2
	// P3: what the sweep found (changes found late, drift, retries of
	// errored records) and bulk work: resync of every errored record or
	// of a list, backfill.
	P3
)

func (p Priority) String() string { return fmt.Sprintf("P%d", int(p)) }

// priorityOf classifies a trigger.
func priorityOf(t crmsync.Trigger) Priority {
	switch {
	case t.Kind == crmsync.KindActivity, t.Record.Object.IsActivity():
		return P2
	case t.Kind == crmsync.KindCreated:
		return P0
	case t.Kind == crmsync.KindSweep, t.Kind == crmsync.KindManualResync && t.DeliveryID != "" && t.DeliveryID != crmsync.DeliveryResync:
		return P3
	}
	return P1
}

// pauseAt is the usage share (percent) at which work of priority p pauses.
func pauseAt(b crmsync.APIBudget, p Priority) int {
	switch p {
	case P0:
		return b.StopPercent
	case P1:
		return b.PauseUpdatesPercent
	case P2:
		return b.PauseActivitiesPercent
	}
	return b.PauseLowPriorityPercent
}

// budget keeps crmsync inside the Salesforce API allocation
// (Settings.Budget). The share is crmsync's own counted calls over
// SalesforceDailyLimit when that is set, else the org's usage over its
// allocation as Salesforce reports it; with neither known, nothing waits.
// Each priority class pauses at its share and resumes below
// ResumeLowPriorityPercent (hysteresis: between the two, the last state
// holds); creations (P0) wait only while usage is at StopPercent. REQUEST_LIMIT_EXCEEDED suspends every class for SuspendFor.
type budget struct {
	mu        sync.Mutex
	paused    [P3 + 1]bool
	share     float64
	known     bool
	computed  time.Time
	suspended time.Time // until
}

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
	} else if o, ok := e.crm(crmsync.Salesforce).(OrgAPIUsage); ok {
		if used, max, ok := o.OrgAPIUsage(); ok && max > 0 {
			share, known = 100*float64(used)/float64(max), true
		}
	}
	e.budget.mu.Lock()
	e.budget.share, e.budget.known, e.budget.computed = share, known, now
	e.budget.mu.Unlock()
	return share, known, nil
}

// budgetWait is a trigger waiting for the budget: retried, never a sync
// error (crmsync.Classify: budget).
type budgetWait struct{ msg string }

func (w budgetWait) Error() string        { return w.msg }
func (w budgetWait) Is(target error) bool { return target == crmsync.ErrBudget }

// checkBudget returns a budget error when the trigger must wait.
func (e *Engine) checkBudget(ctx context.Context, t crmsync.Trigger, s crmsync.Settings) error {
	now := e.now()
	e.budget.mu.Lock()
	until := e.budget.suspended
	e.budget.mu.Unlock()
	if now.Before(until) {
		return budgetWait{fmt.Sprintf("Salesforce API budget: Salesforce refused a call with REQUEST_LIMIT_EXCEEDED; every Salesforce call waits until %s", until.Format(time.RFC3339))}
	}
	b := s.Budget
	share, known, err := e.usage(ctx, b)
	if err != nil || !known {
		return err
	}
	p := priorityOf(t)
	e.budget.mu.Lock()
	for q := P0; q <= P3; q++ {
		at := pauseAt(b, q)
		switch {
		case at > 0 && share >= float64(at):
			e.budget.paused[q] = true
		case q == P0 || share < float64(b.ResumeLowPriorityPercent):
			e.budget.paused[q] = false // creations wait only while at the stop share
		}
	}
	paused := e.budget.paused[p]
	e.budget.mu.Unlock()
	if paused {
		return budgetWait{fmt.Sprintf("Salesforce API budget: %.0f%% used; %s work (%s) paused at %d%% until below %d%%",
			share, p, t.Kind, pauseAt(b, p), b.ResumeLowPriorityPercent)}
	}
	return nil
}

// noteBudget suspends every Salesforce call when err says Salesforce's
// allocation is spent.
func (e *Engine) noteBudget(err error) {
	if err == nil || !errors.Is(err, crmsync.ErrBudget) {
		return
	}
	var w budgetWait
	if errors.As(err, &w) {
		return // our own wait, not Salesforce's answer
	}
	e.budget.mu.Lock()
	e.budget.suspended = e.now().Add(SuspendFor)
	e.budget.mu.Unlock()
}

// BudgetState is what the budget holds back now, for operators.
type BudgetState struct {
	// SharePercent is the last computed usage share (Known: whether
	// there is one).
	SharePercent float64
	Known        bool
	// Paused lists the paused priority classes ("P3", …).
	Paused []string
	// SuspendedUntil is set while REQUEST_LIMIT_EXCEEDED holds every call.
	SuspendedUntil time.Time
}

// Budget reports the budget's state.
func (e *Engine) Budget() BudgetState {
	e.budget.mu.Lock()
	defer e.budget.mu.Unlock()
	st := BudgetState{SharePercent: e.budget.share, Known: e.budget.known}
	for q := P0; q <= P3; q++ {
		if e.budget.paused[q] {
			st.Paused = append(st.Paused, q.String())
		}
	}
	if e.now().Before(e.budget.suspended) {
		st.SuspendedUntil = e.budget.suspended
	}
	return st
}

// withinBudget returns the jobs the API budget lets run now; the others
// wait (their result is the budget's wait, retried through the queue).
func (e *Engine) withinBudget(ctx context.Context, jobs []*job) []*job {
	var live []*job
	for _, j := range jobs {
		if err := e.checkBudget(ctx, j.t, j.settings); err != nil {
			j.res.err = err
			continue
		}
		live = append(live, j)
	}
	return live
}
