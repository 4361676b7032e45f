package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// job is one trigger on its way through a batch: gated, read, decided,
// applied.
type job struct {
	t crmsync.Trigger
	// also are the batch's other triggers for the same record or pair.
	also     []crmsync.Trigger
	settings crmsync.Settings
	pair     pair
	// link is the source's link as read, then as stored by apply (nil:
	// none, or a reservation released).
	link *crmsync.Link
	// notes are what happened before the read (merge re-pointing).
	notes []string
	// f is what was read, plan what was decided.
	f    *facts
	plan Plan
	res  result
}

// result is what applying a job did.
type result struct {
	writes []Write
	err    error // retry the trigger
	done   bool  // the outcome is final before reading (gated out)
	out    Outcome
}

// batchKey groups reads and writes by side and object type.
type batchKey struct {
	side   crmsync.Side
	object crmsync.ObjectType
}

// ResolveBatch resolves triggers together (one queue batch), with the same
// result per trigger as resolving them one by one — errs[i] non-nil means
// "retry trigger i".
//
// Every trigger takes one path: read, decide (pure), apply. Linked pairs
// are read ahead and written with batch calls where the CRMs can
// (crmsync.BatchCRM: HubSpot batch read/update ≤ 100, Salesforce SOQL IN
// and sObject Collections ≤ 200), so a bulk change costs a few calls per
// batch instead of three per record. Several triggers for one record, or
// for the two records of one link, are resolved once: the later ones share
// the first's outcome. Everything else — creations, refusals, deletes,
// merges — is resolved with N = 1, in order, so each sees what the ones
// before it stored. Activities are resolved last, together (see
// resolveActivities), so a contact created in the same batch is linked
// before its activities look for it.
func (e *Engine) ResolveBatch(ctx context.Context, ts []crmsync.Trigger) ([]Outcome, []error) {
	outs := make([]Outcome, len(ts))
	errs := make([]error, len(ts))
	settings, err := e.Settings(ctx)
	if err != nil {
		return retryAll(ts, err)
	}
	jobOf := make([]*job, len(ts))
	var linked, activities []*job
	byRecord := map[crmsync.RecordRef]*job{}
	byLink := map[string]*job{}
	for i, t := range ts {
		j := &job{t: t, settings: settings}
		jobOf[i] = j
		if !e.gate(ctx, j) {
			continue
		}
		if first, dup := byRecord[t.Record]; dup {
			jobOf[i] = first
			first.also = append(first.also, t)
			continue
		}
		byRecord[t.Record] = j
		if t.Record.Object.IsActivity() {
			activities = append(activities, j)
			continue
		}
		if first := e.loadLink(ctx, j, byLink); first != nil {
			jobOf[i] = first
			first.also = append(first.also, t)
		} else if j.res.err == nil && batchable(j) {
			linked = append(linked, j)
		} else if j.res.err == nil {
			e.resolveJobs(ctx, []*job{j})
		}
	}
	e.resolveJobs(ctx, linked)
	e.resolveActivities(ctx, activities)
	for i, t := range ts {
		outs[i], errs[i] = e.finish(ctx, t, jobOf[i])
	}
	return outs, errs
}

// gate ends a trigger's resolution before any read where it can: an
// invalid trigger, a repeated delivery, an activity or object type that
// does not sync. It reports whether the trigger goes on.
func (e *Engine) gate(ctx context.Context, j *job) bool {
	t := j.t
	if err := t.Validate(); err != nil {
		j.res = result{done: true, out: Outcome{Decision: DecisionFailed, Reason: err.Error()}}
		return false
	}
	seen, err := e.Store.Seen(ctx, t.DedupeKey, e.dedupeTTL())
	if err != nil {
		j.res = result{done: true, err: fmt.Errorf("dedupe %s: %w", t.Record, err)}
		return false
	}
	// The key is recorded here, before the resolution: a worker that dies
	// before finishing leaves it recorded. So a message the queue hands
	// out again (Attempt > 0: its earlier receive was neither finished nor
	// forgotten) is resolved again — re-reading makes that harmless —
	// while a vendor's repeated delivery (a new message, Attempt 0) is
	// dropped.
	if seen && t.Attempt == 0 {
		j.res = result{done: true, out: Outcome{Decision: DecisionDuplicate, Reason: "delivery already handled"}}
		return false
	}
	if e.ownEcho(t) {
		j.res = result{done: true, out: Outcome{Decision: DecisionNoChange,
			Reason: "echo of crmsync's own write (" + t.ChangeSource + "): dropped without a read"}}
		return false
	}
	p, ok := pairFor(t.Record, j.settings)
	j.pair = p
	if t.Record.Object.IsActivity() {
		if why := activityOff(t, j.settings); why != "" {
			e.skipNow(ctx, j, why)
			return false
		}
		return true
	}
	switch {
	case (!ok || !p.enabled) && drivesLifecycle(t, j.settings):
		e.lifecycleNow(ctx, j)
	case !ok:
		e.skipNow(ctx, j, fmt.Sprintf("object type %s is not synced", t.Record.Object))
	case !p.enabled:
		e.skipNow(ctx, j, fmt.Sprintf("%s sync is off in the settings", p.name))
	default:
		return true
	}
	return false
}

// ownEcho reports whether t is HubSpot telling crmsync of its own write
// (change source INTEGRATION/<its app id>): it carries nothing crmsync
// does not know, so it is dropped before any read. (A change by someone
// else arrives as its own event, with its own source.)
func (e *Engine) ownEcho(t crmsync.Trigger) bool {
	return e.OwnHubSpotAppID != "" && t.Record.Side == crmsync.HubSpot &&
		(t.Kind == crmsync.KindPropertyChanged || t.Kind == crmsync.KindCreated) &&
		t.ChangeSource == "INTEGRATION/"+e.OwnHubSpotAppID
}

// skipNow applies a skip plan: the ledger says why nothing was done.
func (e *Engine) skipNow(ctx context.Context, j *job, reason string) {
	j.f = &facts{t: j.t, settings: j.settings, now: e.now()}
	j.plan = skip(reason)
	e.finishJob(ctx, j)
	j.res.done = true
}

// loadLink reads the source's link (after a merge trigger's re-pointing).
// It returns the job already resolving the same link in this batch, if
// any.
func (e *Engine) loadLink(ctx context.Context, j *job, byLink map[string]*job) *job {
	if j.t.Kind == crmsync.KindMerged {
		if err := e.repointMerged(ctx, j); err != nil {
			j.res.err = err
			return nil
		}
	}
	l, err := e.Store.GetLink(ctx, j.t.Record)
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
		return nil
	case err != nil:
		j.res.err = fmt.Errorf("get link: %w", err)
		return nil
	}
	j.link = &l
	if !batchable(j) {
		return nil
	}
	if first, dup := byLink[l.ID]; dup {
		return first
	}
	byLink[l.ID] = j
	return nil
}

// batchable reports whether j is an active linked pair, resolved with the
// batch's other linked pairs.
func batchable(j *job) bool {
	l := j.link
	return l != nil && l.Status == crmsync.LinkActive && !l.HubSpot.IsZero() && !l.Salesforce.IsZero() &&
		j.t.Kind != crmsync.KindMerged
}

// resolveJobs reads, decides and applies jobs together.
func (e *Engine) resolveJobs(ctx context.Context, jobs []*job) {
	live := e.withinBudget(ctx, jobs)
	pre := e.prefetch(ctx, live)
	for _, j := range live {
		f, err := e.read(ctx, j, pre)
		j.f, j.link = f, f.link // reading may find the pair's link (a converted lead's)
		if err != nil {
			j.plan = failureOf(f, err)
		} else {
			j.plan = decide(f)
		}
	}
	e.apply(ctx, live)
	for _, j := range live {
		if j.res.err != nil || !drivesLifecycle(j.t, j.settings) {
			continue
		}
		p, writes, err := e.resolveLifecycle(ctx, j)
		j.res.out.Writes = append(j.res.out.Writes, writes...)
		j.res.out.Reason += "; " + p.Reason
		j.res.err = err
	}
}

// lifecycleNow resolves a trigger that only moves lifecycle stages (an
// opportunity while deals do not sync, a contact role).
func (e *Engine) lifecycleNow(ctx context.Context, j *job) {
	j.res.done = true
	if err := e.checkBudget(ctx, j.t, j.settings); err != nil {
		j.res.err = err
		return
	}
	p, writes, err := e.resolveLifecycle(ctx, j)
	j.res.writes, j.res.err = writes, err
	j.res.out = Outcome{Decision: p.Decision, Reason: p.Reason, Writes: writes}
	if p.Error != nil {
		j.res.out.Category = p.Error.Category
	}
}

// finish turns a job into trigger t's outcome as Resolve reports it: a
// retry forgets the dedupe key, success is logged.
func (e *Engine) finish(ctx context.Context, t crmsync.Trigger, j *job) (Outcome, error) {
	out, err := j.res.out, j.res.err
	if j.t.DedupeKey != t.DedupeKey || j.t.Record != t.Record {
		out.Writes = nil
		out.Reason = "resolved with " + j.t.Record.String() + " in the same batch: " + out.Reason
	}
	out.Trigger = t
	if err != nil {
		e.noteBudget(err)
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

// prefetch reads both records of every job's link with one batch read per
// side and object type. A failed batch read is not an error: the jobs then
// read one by one.
func (e *Engine) prefetch(ctx context.Context, jobs []*job) *prefetch {
	pre := &prefetch{records: map[crmsync.RecordRef]crmsync.Record{}, missing: map[crmsync.RecordRef]bool{}}
	ids := map[batchKey][]string{}
	props := map[batchKey][]string{}
	for _, j := range jobs {
		if j.link == nil {
			continue
		}
		for _, ref := range j.link.Refs() {
			k := batchKey{ref.Side, ref.Object}
			ids[k] = append(ids[k], ref.ID)
			props[k] = readProperties(j.settings, ref.Side, ref.Object)
		}
	}
	for k, list := range ids {
		if len(list) < 2 {
			continue
		}
		got, err := e.crm(k.side).GetMany(ctx, k.object, list, props[k])
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

// retryAll is the result of a batch that could not start (its settings
// did not load): every trigger is retried.
func retryAll(ts []crmsync.Trigger, err error) ([]Outcome, []error) {
	outs := make([]Outcome, len(ts))
	errs := make([]error, len(ts))
	for i := range ts {
		outs[i], errs[i] = Outcome{Trigger: ts[i]}, fmt.Errorf("engine: %w", err)
	}
	return outs, errs
}
