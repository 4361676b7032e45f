package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// apply performs the jobs' plans: first each job's link writes and
// creates (in order; activities' Tasks together), then every update with batch calls per side and
// object type, then each job's association, delete, link, ledger and sync
// error. A failed write turns the job's plan into a failure plan (a retry
// or the record's sync error); nothing is ever dropped.
func (e *Engine) apply(ctx context.Context, jobs []*job) {
	e.applyWith(ctx, jobs, Bulk{}, createsTask)
}

// applyWith is apply with the creations for which together holds sent in
// vendor batches (createMany) where the target side can (b's or the
// CRM's crmsync.BatchCreator); the others are created one by one.
func (e *Engine) applyWith(ctx context.Context, jobs []*job, b Bulk, together func(*job) bool) {
	var creates []*job
	for _, j := range jobs {
		switch {
		case j.plan.Retry != nil:
		case j.plan.Writes.Create != nil && together(j) && e.creator(j.plan.Writes.Create.Ref.Side, b) != nil:
			creates = append(creates, j)
		default:
			e.applyBefore(ctx, j)
		}
	}
	e.createMany(ctx, creates, b)
	e.writeUpdates(ctx, jobs)
	for _, j := range jobs {
		e.finishJob(ctx, j)
	}
}

// fail replaces a job's plan by the failure of op.
func (j *job) fail(op string, err error) { j.plan = failure(j.f, op, err) }

// retry makes the job retry with err.
func (j *job) retry(err error) { j.plan = Plan{Retry: err} }

// applyBefore performs what comes before the updates: claiming a stale
// reservation, then a create, or the link of an adopted match.
func (e *Engine) applyBefore(ctx context.Context, j *job) {
	p := j.plan
	if p.Link.Claim && !e.claim(ctx, j) {
		return
	}
	switch {
	case p.Writes.Create != nil:
		e.create(ctx, j)
	case p.Link.Adopt:
		e.adopt(ctx, j)
	}
}

// createsTask reports whether j's plan creates an activity's Task: a
// batch's Tasks are created together (one sObject Collections call). A
// Task has no identity to match, so nothing else comes before its create.
func createsTask(j *job) bool {
	w := j.plan.Writes.Create
	return w != nil && w.Ref.Side == crmsync.Salesforce && w.Ref.Object == crmsync.SFTask
}

// claim takes over the source's stale reservation (left by a dead worker,
// or by this delivery's own earlier attempt). The version check makes
// one claimant win.
func (e *Engine) claim(ctx context.Context, j *job) bool {
	claimed := *j.link
	claimed.UpdatedAt = e.now()
	claimed.PendingKey = j.t.DedupeKey
	l, err := e.Store.UpdateLink(ctx, claimed)
	if errors.Is(err, crmsync.ErrVersionConflict) {
		j.retry(errRetry{"another worker claimed the stale reservation of " + j.t.Record.String()})
		return false
	}
	if err != nil {
		j.retry(fmt.Errorf("claim stale reservation: %w", err))
		return false
	}
	j.link = &l
	return true
}

// adopt links the source to the existing record identity found, before
// the writes: the store's uniqueness is the guard against a duplicate.
func (e *Engine) adopt(ctx context.Context, j *job) {
	src, match := j.t.Record, j.f.found.match.Ref
	var l crmsync.Link
	var err error
	if j.link == nil {
		now := e.now()
		l, err = e.Store.CreateLink(ctx, linkWith(linkWith(crmsync.Link{Status: crmsync.LinkActive, CreatedAt: now, UpdatedAt: now}, src), match))
	} else {
		next := linkWith(*j.link, match)
		next.Status, next.PendingKey, next.UpdatedAt = crmsync.LinkActive, "", e.now()
		l, err = e.Store.UpdateLink(ctx, next)
	}
	if errors.Is(err, crmsync.ErrConflict) || errors.Is(err, crmsync.ErrVersionConflict) {
		j.retry(errRetry{fmt.Sprintf("link %s ⇄ %s raced with another worker", src, match)})
		return
	}
	if err != nil {
		j.retry(fmt.Errorf("link %s to %s: %w", src, match, err))
		return
	}
	j.link = &l
}

// create reserves the source id (so concurrent triggers create one
// record), creates the counterpart, sets its company and completes the
// link. A terminal create failure releases the reservation, so a fixed
// record can be retried.
func (e *Engine) create(ctx context.Context, j *job) {
	w := j.plan.Writes.Create
	if j.plan.Link.Reserve && !e.reserve(ctx, j) {
		return
	}
	created, err := e.crm(w.Ref.Side).Create(ctx, w.Ref.Object, w.Props)
	if err != nil {
		e.createFailed(ctx, j, err)
		return
	}
	j.created(created.Ref, created.LastModified)
}

// createFailed makes a failed create the job's plan: a terminal failure
// releases the reservation first, so a fixed record can be retried.
func (e *Engine) createFailed(ctx context.Context, j *job, err error) {
	w := j.plan.Writes.Create
	if crmsync.Classify(err).Class == crmsync.ClassTerminal && j.link != nil {
		if derr := e.Store.DeleteLink(ctx, j.link.ID, j.link.Version); derr != nil && !errors.Is(derr, crmsync.ErrNotFound) {
			j.retry(fmt.Errorf("release reservation after failed create: %w", derr))
			return
		}
		j.link = nil
	}
	j.fail(fmt.Sprintf("create %s %s", w.Ref.Side, w.Ref.Object), err)
}

// created completes the plan of a job whose record was created as ref:
// the write, the link's new side and seen time, the reason and the
// ledger's target.
func (j *job) created(ref crmsync.RecordRef, modified time.Time) {
	j.res.writes = append(j.res.writes, Write{Op: "create", Ref: ref, Properties: j.plan.Writes.Create.Props})
	next := linkWith(j.plan.Link.Next, ref)
	if ref.Side == crmsync.HubSpot {
		next.HubSpotSeen = modified
	} else {
		next.SalesforceSeen = modified
	}
	j.plan.Link.Next = next
	reason := fmt.Sprintf("created %s from %s", ref, j.t.Record)
	if j.plan.Reason != "" {
		reason += "; " + j.plan.Reason
	}
	j.plan.Reason = reason
	j.plan.Ledger.Target = ref
}

// reserve stores a pending link for the source.
func (e *Engine) reserve(ctx context.Context, j *job) bool {
	src, now := j.t.Record, e.now()
	res, err := e.Store.CreateLink(ctx, linkWith(crmsync.Link{Status: crmsync.LinkPending, PendingKey: j.t.DedupeKey,
		CreatedAt: now, UpdatedAt: now}, src))
	if errors.Is(err, crmsync.ErrConflict) {
		j.retry(errRetry{"another worker is creating the record linked to " + src.String()})
		return false
	}
	if err != nil {
		j.retry(fmt.Errorf("reserve link: %w", err))
		return false
	}
	j.link = &res
	return true
}

// writeUpdates writes the jobs' planned updates with one batch call per
// side and object type where there are several (else one by one).
func (e *Engine) writeUpdates(ctx context.Context, jobs []*job) {
	type item struct {
		j *job
		w recordWrite
	}
	groups := map[batchKey][]item{}
	var order []batchKey
	for _, j := range jobs {
		if j.plan.Retry != nil || j.plan.failed() {
			continue
		}
		for _, w := range j.plan.Writes.Updates {
			k := batchKey{w.Ref.Side, w.Ref.Object}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], item{j, w})
		}
	}
	for _, k := range order {
		items := groups[k]
		errs := make([]error, len(items))
		if len(items) < 2 {
			errs[0] = e.crm(k.side).Update(ctx, items[0].w.Ref, items[0].w.Props)
		} else {
			updates := make([]crmsync.Update, len(items))
			for i, it := range items {
				updates[i] = crmsync.Update{ID: it.w.Ref.ID, Properties: it.w.Props}
			}
			results, err := e.crm(k.side).UpdateMany(ctx, k.object, updates)
			for i := range items {
				errs[i] = err
				if err == nil {
					errs[i] = results[i]
				}
			}
		}
		e.landed(ctx, k, errs, func(i int) recordWrite { return items[i].w })
		for i, it := range items {
			switch {
			case it.j.plan.Retry != nil || it.j.plan.failed(): // failed on another write
			case errs[i] != nil:
				e.keepWritten(ctx, it.j)
				it.j.fail("update "+it.w.Ref.String(), errs[i])
			default:
				it.j.res.writes = append(it.j.res.writes, Write{Op: "update", Ref: it.w.Ref, Properties: it.w.Props})
			}
		}
	}
}

// landed clears the transient errors of writes that landed anyway (a
// timeout or a reset after the vendor applied the write): one batch read
// of the records whose write failed transiently, and a write whose every
// value the record now holds is a success. Without it crmsync's own write
// would look, on the retry, like a change made on that side — and win a
// Two-way conflict against a newer change on the other (make chaos found
// this). A value the vendor reformats reads back different: such a write
// stays failed, as before.
func (e *Engine) landed(ctx context.Context, k batchKey, errs []error, write func(int) recordWrite) {
	var ids []string
	var props []string
	for i, err := range errs {
		if mayHaveLanded(err) {
			w := write(i)
			ids = append(ids, w.Ref.ID)
			for p := range w.Props {
				props = append(props, p)
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	got, err := e.crm(k.side).GetMany(ctx, k.object, ids, props)
	if err != nil {
		return // the writes stay failed and are retried
	}
	for i, werr := range errs {
		if !mayHaveLanded(werr) {
			continue
		}
		w := write(i)
		rec, ok := got[w.Ref.ID]
		if !ok {
			continue
		}
		same := true
		for p, v := range w.Props {
			same = same && rec.Properties[p] == v
		}
		if same {
			errs[i] = nil
		}
	}
}

// mayHaveLanded reports whether a write that failed with err may have
// been applied all the same: a transient or unexplained failure (not a
// refusal, not a spent allocation).
func mayHaveLanded(err error) bool {
	c := crmsync.Classify(err).Class
	return err != nil && (c == crmsync.ClassTransient || c == crmsync.ClassUnknown)
}

// keepWritten stores, before a failure replaces a job's plan, the shadow
// of the fields it has already written to the other side. Without it a
// retry would take crmsync's own write for a change made on that side,
// and in a Two-way conflict with a newer change on the side that failed,
// the later modification — crmsync's write — would win: a lost update.
func (e *Engine) keepWritten(ctx context.Context, j *job) {
	written := map[crmsync.Side]bool{}
	for _, w := range j.res.writes {
		written[w.Ref.Side] = written[w.Ref.Side] || w.Op == "update"
	}
	if j.link == nil || j.link.Status != crmsync.LinkActive || !written[crmsync.HubSpot] && !written[crmsync.Salesforce] {
		return
	}
	next := *j.link
	next.Shadow = maps.Clone(next.Shadow)
	if next.Shadow == nil {
		next.Shadow = map[string]crmsync.FieldShadow{}
	}
	kept := 0
	for _, f := range j.plan.Fields {
		side := map[mapping.Action]crmsync.Side{mapping.WriteHubSpot: crmsync.HubSpot, mapping.WriteSalesforce: crmsync.Salesforce}[f.Action]
		if sh, ok := j.plan.Link.Next.Shadow[f.Mapping.Key()]; ok && side != "" && written[side] {
			next.Shadow[f.Mapping.Key()] = sh
			kept++
		}
	}
	if kept == 0 {
		return
	}
	next.UpdatedAt = e.now()
	l, err := e.Store.UpdateLink(ctx, next)
	if err != nil {
		e.logger().WarnContext(ctx, "could not keep the shadow of a partly applied write", "link_id", next.ID, "error", err)
		return
	}
	j.link = &l
}

// finishJob performs the rest of a job's plan — the company association,
// a mirrored delete, the link, the ledger and the sync error — and sets
// its outcome.
func (e *Engine) finishJob(ctx context.Context, j *job) {
	if j.plan.Retry == nil {
		e.writeAccount(ctx, j)
	}
	if j.plan.Retry == nil && !j.plan.Writes.Delete.IsZero() && !j.plan.failed() {
		if err := e.crm(j.plan.Writes.Delete.Side).Delete(ctx, j.plan.Writes.Delete); err != nil {
			j.fail("delete "+j.plan.Writes.Delete.String(), err)
		} else {
			j.res.writes = append(j.res.writes, Write{Op: "delete", Ref: j.plan.Writes.Delete})
		}
	}
	if j.plan.Retry == nil && !j.plan.failed() {
		e.createAlso(ctx, j)
	}
	if j.plan.Retry == nil {
		e.storeLink(ctx, j)
	}
	e.addMember(ctx, j)
	if j.plan.Retry == nil {
		if err := e.record(ctx, j); err != nil {
			j.retry(err)
		}
	}
	j.res.out = j.outcome()
	j.res.err = j.plan.Retry
}

// writeAccount sets the HubSpot record's primary company. After a create
// a failure is recorded but the link is still completed (without the
// association's shadow, so the next resolution writes it).
func (e *Engine) writeAccount(ctx context.Context, j *job) {
	ch := j.plan.Writes.Account
	if ch == nil || j.plan.failed() {
		return
	}
	ref := j.plan.Link.Next.HubSpot
	err := e.HubSpot.SetPrimary(ctx, ref, *ch)
	if err == nil {
		j.res.writes = append(j.res.writes, Write{Op: "associate", Ref: ref, Properties: map[string]string{string(crmsync.HSCompany): ch.ToID}})
		return
	}
	if j.plan.Writes.Create == nil {
		j.fail("set the company of "+ref.String(), err)
		return
	}
	// The record exists now: complete its link whatever the failure, or
	// a retry would create it again.
	delete(j.plan.Link.Next.Shadow, accountShadowKey)
	e.storeLink(ctx, j)
	if j.plan.Retry == nil {
		j.fail("set the company of "+ref.String(), err)
	}
}

// createAlso creates the plan's other link. One already there (made by a
// concurrent resolution) is not an error: the ledger says so.
func (e *Engine) createAlso(ctx context.Context, j *job) {
	l := j.plan.Link.Also
	if l == nil {
		return
	}
	_, err := e.Store.CreateLink(ctx, *l)
	switch {
	case errors.Is(err, crmsync.ErrConflict):
		j.plan.Notes = append(j.plan.Notes, fmt.Sprintf("%s or %s was linked meanwhile", l.HubSpot, l.Salesforce))
	case err != nil:
		j.retry(fmt.Errorf("link %s to %s: %w", l.HubSpot, l.Salesforce, err))
	}
}

// storeLink stores the plan's next link over the current one.
func (e *Engine) storeLink(ctx context.Context, j *job) {
	if !j.plan.Link.Store || j.link == nil {
		return
	}
	next := j.plan.Link.Next
	next.ID, next.Version, next.CreatedAt = j.link.ID, j.link.Version, j.link.CreatedAt
	l, err := e.Store.UpdateLink(ctx, next)
	if errors.Is(err, crmsync.ErrVersionConflict) || errors.Is(err, crmsync.ErrConflict) {
		j.retry(errRetry{"link " + next.ID + " changed while syncing " + j.t.Record.String()})
		return
	}
	if err != nil {
		j.retry(fmt.Errorf("update link %s: %w", next.ID, err))
		return
	}
	j.link = &l
	j.plan.Link.Store = false
}

// record appends the ledger entry and sets or clears the sync error.
func (e *Engine) record(ctx context.Context, j *job) error {
	if err := e.Store.AppendLedger(ctx, j.ledgerEntry(e.now())); err != nil {
		return fmt.Errorf("append ledger: %w", err)
	}
	src := j.t.Record
	if j.plan.Error != nil {
		var prev *crmsync.SyncError
		old, err := e.Store.GetSyncError(ctx, src)
		switch {
		case err == nil:
			prev = &old
		case !errors.Is(err, crmsync.ErrNotFound):
			return fmt.Errorf("get sync error: %w", err)
		}
		se := nextSyncError(prev, *j.plan.Error, j.settings.Retry, e.now())
		se.LinkID = j.linkID()
		if err := e.Store.PutSyncError(ctx, se); err != nil {
			return fmt.Errorf("put sync error: %w", err)
		}
		return nil
	}
	if j.plan.ClearError {
		if err := e.Store.ClearSyncError(ctx, src); err != nil {
			return fmt.Errorf("clear sync error: %w", err)
		}
	}
	return nil
}

// linkID is the job's link id ("" without one).
func (j *job) linkID() string {
	if j.link == nil {
		return ""
	}
	return j.link.ID
}

// ledgerEntry is the job's ledger entry: under its link, or under the
// record's own key when it has none.
func (j *job) ledgerEntry(at time.Time) crmsync.LedgerEntry {
	key := LedgerKey(j.t.Record)
	if id := j.linkID(); id != "" {
		key = id
	}
	note := j.plan.Reason
	if len(j.plan.Notes) > 0 {
		note += "; " + strings.Join(j.plan.Notes, "; ")
	}
	var calls []string
	for _, w := range j.res.writes {
		calls = append(calls, w.Op+" "+w.Ref.String())
	}
	return crmsync.LedgerEntry{LinkID: key, At: at, Trigger: j.t, Target: j.plan.Ledger.Target,
		Call: strings.Join(calls, "; "), Result: j.plan.Ledger.Result, Note: note, Changes: append(fieldChanges(j.plan), j.plan.Ledger.Changes...)}
}

// fieldChanges lists the plan's written and refused fields.
func fieldChanges(p Plan) []crmsync.FieldChange {
	var out []crmsync.FieldChange
	for _, f := range p.Fields {
		if f.Action == mapping.Keep && !f.Refused {
			continue
		}
		fc := crmsync.FieldChange{Field: f.Mapping.Key(), Rule: string(f.Mapping.Rule), Before: f.Before, After: f.Value}
		if f.Conflict != nil {
			fc.Conflict = fmt.Sprintf("%s won; losing value %q", f.Conflict.Winner, f.Conflict.LoserValue)
		}
		if f.Refused {
			fc.Refused = f.Why
		}
		out = append(out, fc)
	}
	return out
}

// outcome is the job's outcome as its plan and writes say.
func (j *job) outcome() Outcome {
	out := Outcome{Trigger: j.t, Decision: j.plan.Decision, Reason: j.plan.Reason, LinkID: j.linkID(), Writes: j.res.writes}
	for _, f := range j.plan.Fields {
		if f.Conflict != nil && !j.plan.failed() {
			out.Conflicts++
		}
	}
	if j.plan.Error != nil {
		out.Category = j.plan.Error.Category
	}
	return out
}
