package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// BulkPlan is what a bulk job (backfill) would do — `crmsync plan
// -backfill` — found by the engine's own reads and decisions, page by
// page as the job resolves them (PreviewPage), with nothing applied.
//
// Its SettingsPlan counts the records previewed (Pairs), their decisions,
// the writes per operation and field and the sync errors; Calls are the
// writes' calls per side as ResolvePage makes them: per page, updates of
// one object type in vendor batches (HubSpot 100, Salesforce 200), and
// creations likewise where the CRM creates in batches (else one call
// each); associations and deletes one call each. Reads counts what
// reading cost, which the bulk job measures as the plan makes the very
// reads the run will make.
type BulkPlan struct {
	SettingsPlan
	Reads map[crmsync.Side]int `json:"reads"`
}

// NewBulkPlan returns an empty plan of pages of pageSize records.
func NewBulkPlan(pageSize int) *BulkPlan {
	return &BulkPlan{SettingsPlan: SettingsPlan{Decisions: map[Decision]int{}, Fields: map[string]int{},
		Writes: map[string]int{}, Calls: map[crmsync.Side]int{}, BatchSize: pageSize, Errors: map[crmsync.Category]int{}},
		Reads: map[crmsync.Side]int{}}
}

// Total is the calls the job costs on side s: reads and writes.
func (bp *BulkPlan) Total(s crmsync.Side) int { return bp.Reads[s] + bp.Calls[s] }

// PreviewPage previews a page of a bulk job's triggers as ResolvePage
// would resolve them — the same batched reads, the same decision — and
// applies nothing. Records of the page sharing an email are all previewed
// against what exists now (the run resolves the later ones after the
// first one's creation, so they may find it). Errors are the store's or a
// setting's, as for Preview.
func (e *Engine) PreviewPage(ctx context.Context, ts []crmsync.Trigger, b Bulk) ([]Preview, error) {
	settings, err := e.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var jobs []*job
	for _, t := range ts {
		p, ok := pairFor(t.Record, settings)
		if !ok || !p.enabled || t.Record.Object.IsActivity() {
			continue // previewWith says why
		}
		j := &job{t: t, settings: settings, pair: p}
		l, err := e.Store.GetLink(ctx, t.Record)
		switch {
		case err == nil:
			j.link = &l
		case !errors.Is(err, crmsync.ErrNotFound):
			return nil, fmt.Errorf("get link: %w", err)
		}
		jobs = append(jobs, j)
	}
	pre := &prefetch{}
	if len(jobs) > 0 {
		pre, _, _ = e.readPage(ctx, jobs, b)
	}
	out := make([]Preview, len(ts))
	for i, t := range ts {
		if out[i], err = e.previewWith(ctx, settings, t.Record, pre); err != nil {
			return out, err
		}
	}
	return out, nil
}

// AddPage counts a previewed page into bp, its writes' calls as
// ResolvePage would batch them with b.
func (e *Engine) AddPage(bp *BulkPlan, page []Preview, b Bulk) {
	perKey := map[string]int{}
	for _, p := range page {
		bp.add(p, perKey) // counts updates in perKey, other writes as one call each
		for _, w := range p.Writes {
			if w.Op == "create" {
				perKey[w.Op+" "+string(w.Ref.Side)+"/"+string(w.Ref.Object)]++
			}
		}
	}
	for k, n := range perKey {
		op, rest, _ := strings.Cut(k, " ")
		side := crmsync.Side(rest[:strings.Index(rest, "/")])
		batched := (n + VendorBatch(side) - 1) / VendorBatch(side)
		switch {
		case op == "update":
			bp.Calls[side] += batched
		case e.creator(side, b) != nil: // add counted each creation as a call
			bp.Calls[side] += batched - n
		}
	}
}

// PlanTriggers previews triggers as the worker resolves them off the
// queue — `crmsync plan -resync` — in batches of batchSize (the worker's:
// 10 with SQS FIFO; linked pairs read with batch reads, the others one by
// one, as ResolveBatch reads them), applying nothing. Its writes' calls
// are counted as PlanSettings counts them; Reads are the calls counted
// (crmsync.Usage) while it read, which are the run's reads. Errors are
// the store's or a setting's, as for Preview.
func (e *Engine) PlanTriggers(ctx context.Context, ts []crmsync.Trigger, batchSize int) (*BulkPlan, error) {
	if batchSize <= 0 {
		batchSize = 10
	}
	bp := NewBulkPlan(batchSize)
	settings, err := e.Settings(ctx)
	if err != nil {
		return bp, err
	}
	before, err := CallsCounted(ctx, e.Store, e.now())
	if err != nil {
		return bp, err
	}
	updates := map[string]int{}
	for lo := 0; lo < len(ts); lo += batchSize {
		batch := ts[lo:min(lo+batchSize, len(ts))]
		var linked []*job
		for _, t := range batch {
			p, ok := pairFor(t.Record, settings)
			if !ok || !p.enabled || t.Record.Object.IsActivity() {
				continue
			}
			l, err := e.Store.GetLink(ctx, t.Record)
			if errors.Is(err, crmsync.ErrNotFound) {
				continue
			} else if err != nil {
				return bp, fmt.Errorf("get link: %w", err)
			}
			if j := (&job{t: t, settings: settings, pair: p, link: &l}); batchable(j) {
				linked = append(linked, j)
			}
		}
		pre := e.prefetch(ctx, linked)
		for _, t := range batch {
			p, err := e.previewWith(ctx, settings, t.Record, pre)
			if err != nil {
				return bp, fmt.Errorf("plan: %s: %w", t.Record, err)
			}
			bp.add(p, updates)
		}
	}
	bp.estimate(updates)
	after, err := CallsCounted(ctx, e.Store, e.now())
	for _, s := range crmsync.Sides {
		bp.Reads[s] = int(after[s] - before[s])
	}
	return bp, err
}

// CallsCounted is the API calls usage counted per side in the window
// before now (crmsync.Usage.APIUsage): a plan measures its reads as the
// difference (other work running meanwhile counts in too).
func CallsCounted(ctx context.Context, usage interface {
	APIUsage(ctx context.Context, side crmsync.Side, now time.Time) (int64, error)
}, now time.Time) (map[crmsync.Side]int64, error) {
	out := map[crmsync.Side]int64{}
	for _, s := range crmsync.Sides {
		n, err := usage.APIUsage(ctx, s, now)
		if err != nil {
			return out, fmt.Errorf("read API usage: %w", err)
		}
		out[s] = n
	}
	return out, nil
}
