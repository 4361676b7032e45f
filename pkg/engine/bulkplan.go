package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
