package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// prefetch holds records a batch read ahead of its runs.
type prefetch struct {
	records map[crmsync.RecordRef]crmsync.Record
	missing map[crmsync.RecordRef]bool
}

// batchKey groups reads and writes by side and object type.
type batchKey struct {
	side   crmsync.Side
	object crmsync.ObjectType
}

// ResolveBatch resolves triggers together (one queue batch), with the same
// result per trigger as Resolve — errs[i] non-nil means "retry trigger i".
//
// Triggers for linked pairs are read and written with batch calls where
// the CRMs can (crmsync.BatchCRM: HubSpot batch read/update ≤ 100,
// Salesforce SOQL IN and sObject Collections ≤ 200), so a bulk change costs
// a few calls per batch instead of three per record. Several triggers for
// one record, or for the two records of one link, in a batch are resolved
// once: the later ones share the first's outcome (they describe the same
// record, which is re-read anyway).
// Everything else — creations, refusals, deletes — goes one by one as in
// Resolve.
func (e *Engine) ResolveBatch(ctx context.Context, ts []crmsync.Trigger) ([]Outcome, []error) {
	outs := make([]Outcome, len(ts))
	errs := make([]error, len(ts))
	settings, err := e.Settings(ctx)
	if err != nil {
		for i := range ts {
			outs[i], errs[i] = Outcome{Trigger: ts[i]}, fmt.Errorf("engine: %w", err)
		}
		return outs, errs
	}

	var runs []*run
	runOf := make([]*run, len(ts))    // the run deciding trigger i
	coveredBy := make([]int, len(ts)) // index of the trigger whose run covers i, or -1
	byLink := map[string]int{}
	byRecord := map[crmsync.RecordRef]int{}
	for i, t := range ts {
		coveredBy[i] = -1
		if err := t.Validate(); err != nil {
			outs[i] = Outcome{Trigger: t, Decision: DecisionFailed, Reason: err.Error()}
			continue
		}
		seen, err := e.Store.Seen(ctx, t.DedupeKey, e.dedupeTTL())
		if err != nil {
			outs[i], errs[i] = Outcome{Trigger: t}, fmt.Errorf("engine: dedupe %s: %w", t.Record, err)
			continue
		}
		if seen {
			outs[i] = Outcome{Trigger: t, Decision: DecisionDuplicate, Reason: "delivery already handled"}
			continue
		}
		if j, dup := byRecord[t.Record]; dup {
			coveredBy[i] = j
			continue
		}
		byRecord[t.Record] = i
		p, ok := pairFor(t.Record, settings)
		if t.Record.Object.IsActivity() || !ok || !p.enabled {
			outs[i], errs[i] = e.finishOne(ctx, t, func() (Outcome, error) { return e.resolveWith(ctx, t, settings) })
			continue
		}
		link, err := e.Store.GetLink(ctx, t.Record)
		if err != nil || link.Status != crmsync.LinkActive || link.HubSpot.IsZero() || link.Salesforce.IsZero() {
			// Not linked (identity, creation), or in a special state: one by one.
			outs[i], errs[i] = e.finishOne(ctx, t, func() (Outcome, error) { return e.resolveWith(ctx, t, settings) })
			continue
		}
		if j, dup := byLink[link.ID]; dup {
			coveredBy[i] = j
			continue
		}
		byLink[link.ID] = i
		if p.sf == "" {
			p.sf = link.Salesforce.Object
		}
		r := &run{e: e, t: t, settings: settings, pair: p, records: map[crmsync.Side]crmsync.Record{}, deferWrites: true, preLink: &link}
		runs = append(runs, r)
		runOf[i] = r
	}

	for i, j := range coveredBy {
		if j >= 0 && runOf[j] != nil {
			runOf[j].covered = append(runOf[j].covered, ts[i])
		}
	}
	pre := e.prefetch(ctx, runs)
	for _, r := range runs {
		r.pre = pre
		if err := r.do(ctx); err != nil {
			r.err = err
		}
	}
	e.writeBatch(ctx, runs)

	for i, t := range ts {
		r := runOf[i]
		if r == nil {
			continue
		}
		outs[i], errs[i] = e.finishOne(ctx, t, func() (Outcome, error) { return r.out, r.err })
	}
	for i, j := range coveredBy {
		if j < 0 {
			continue
		}
		out := outs[j]
		out.Trigger = ts[i]
		out.Writes = nil
		out.Reason = "resolved with " + ts[j].Record.String() + " in the same batch: " + out.Reason
		err := errs[j]
		outs[i], errs[i] = e.finishOne(ctx, ts[i], func() (Outcome, error) { return out, err })
	}
	return outs, errs
}

// finishOne completes a trigger's resolution as Resolve does: a retry
// forgets the dedupe key, success is logged.
func (e *Engine) finishOne(ctx context.Context, t crmsync.Trigger, f func() (Outcome, error)) (Outcome, error) {
	out, err := f()
	out.Trigger = t
	if err != nil {
		if ferr := e.Store.Forget(ctx, t.DedupeKey); ferr != nil {
			err = errors.Join(err, fmt.Errorf("forget dedupe key: %w", ferr))
		}
		return out, fmt.Errorf("engine: %s: %w", t.Record, err)
	}
	e.logger().InfoContext(ctx, "resolved", "side", t.Record.Side, "object", t.Record.Object,
		"record_id", t.Record.ID, "trigger", t.Kind, "attempt", t.Attempt, "decision", out.Decision,
		"reason", out.Reason, "link_id", out.LinkID, "writes", len(out.Writes))
	return out, nil
}

// prefetch reads both records of every run's link with one batch read per
// side and object type (when the CRM is a crmsync.BatchCRM). A failed
// batch read is not an error: the runs then read one by one.
func (e *Engine) prefetch(ctx context.Context, runs []*run) *prefetch {
	pre := &prefetch{records: map[crmsync.RecordRef]crmsync.Record{}, missing: map[crmsync.RecordRef]bool{}}
	ids := map[batchKey][]string{}
	props := map[batchKey][]string{}
	for _, r := range runs {
		for _, ref := range r.preLink.Refs() {
			k := batchKey{ref.Side, ref.Object}
			ids[k] = append(ids[k], ref.ID)
			props[k] = r.readProperties(ref.Side, ref.Object)
		}
	}
	for k, list := range ids {
		b, ok := e.crm(k.side).(crmsync.BatchCRM)
		if !ok || len(list) < 2 {
			continue
		}
		got, err := b.GetMany(ctx, k.object, list, props[k])
		if err != nil {
			e.logger().WarnContext(ctx, "batch read failed; reading one by one", "side", k.side, "object", k.object, "error", err)
			continue
		}
		for _, id := range list {
			ref := crmsync.RecordRef{Side: k.side, Object: k.object, ID: id}
			if rec, ok := got[id]; ok {
				pre.records[ref] = rec
			} else {
				pre.missing[ref] = true
			}
		}
	}
	return pre
}

// writeBatch writes the runs' planned writes with one batch update per
// side and object type where the CRM can (else one by one), then finishes
// each run whose writes all succeeded.
func (e *Engine) writeBatch(ctx context.Context, runs []*run) {
	type item struct {
		r *run
		w pendingWrite
	}
	groups := map[batchKey][]item{}
	var order []batchKey
	for _, r := range runs {
		if r.err != nil || r.plan == nil {
			continue
		}
		for _, w := range r.pending {
			k := batchKey{w.ref.Side, w.ref.Object}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], item{r, w})
		}
	}
	failed := map[*run]bool{}
	fail := func(it item, err error) {
		if failed[it.r] {
			return
		}
		failed[it.r] = true
		it.r.err = it.r.vendorFailure(ctx, it.r.t.Record, "update "+it.w.ref.String(), err)
	}
	for _, k := range order {
		items := groups[k]
		b, ok := e.crm(k.side).(crmsync.BatchCRM)
		if !ok || len(items) < 2 {
			for _, it := range items {
				if failed[it.r] {
					continue
				}
				if err := e.crm(k.side).Update(ctx, it.w.ref, it.w.props); err != nil {
					fail(it, err)
					continue
				}
				it.r.wrote(it.w)
			}
			continue
		}
		updates := make([]crmsync.Update, len(items))
		for i, it := range items {
			updates[i] = crmsync.Update{ID: it.w.ref.ID, Properties: it.w.props}
		}
		results, err := b.UpdateMany(ctx, k.object, updates)
		for i, it := range items {
			switch {
			case err != nil:
				fail(it, err)
			case results[i] != nil:
				fail(it, results[i])
			default:
				it.r.wrote(it.w)
			}
		}
	}
	for _, r := range runs {
		if r.err == nil && r.plan != nil && !failed[r] {
			r.err = r.finish(ctx)
		}
	}
}
