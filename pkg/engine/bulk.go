package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// The bulk path: a page of records a bulk job listed (crmsync backfill)
// resolved together, with the decision of every other trigger (read →
// decide → apply, the same functions), but with the reads and the writes
// of the whole page batched where ResolveBatch takes unlinked records one
// by one:
//
//   - the page's records, and both records of its linked pairs, are read
//     with one batch read per side and object type (crmsync.BatchCRM);
//   - identities are matched by many emails at once (EmailFinder: SOQL
//     Email IN (…) of 200, a HubSpot search IN of 100) instead of one
//     FindByEmail per record;
//   - creations go out in vendor batches (crmsync.BatchCreator: sObject
//     Collections of 200, HubSpot batch create of 100), each reserved in
//     the store first as a single create is, so a concurrent trigger for
//     the same record still creates one record;
//   - updates are written with one batch call per side and object type,
//     as ResolveBatch writes them.
//
// So a page of 200 new HubSpot contacts costs Salesforce three calls (two
// identity queries, one collection) instead of about four per record.
//
// Where a CRM has neither ability (EmailFinder, BatchCreator), the page
// falls back to the per-record call, so the result never depends on it.
// Two records of one page with the same email would both be created (the
// identity read happens before either exists): the later ones wait until
// the page's creations are stored and are then resolved one by one, so
// they find what the first one created.
//
// The page's priority is its triggers' (crmsync.DeliveryBackfill: P3), and
// the budget share is computed afresh for every page (a page is dear, so
// the 30-second cache would let too many through).

// EmailFinder is an ability of a side's CRM, or of what a bulk job passes
// in Bulk: finding the records of many emails in few calls.
type EmailFinder interface {
	// FindByEmails returns the records of object type o whose email is
	// one of emails, keyed by the email in lower case (an email without a
	// record is absent), with the given properties as
	// crmsync.CRM.FindByEmail reads them. Errors are vendor errors.
	FindByEmails(ctx context.Context, o crmsync.ObjectType, emails []string, properties []string) (map[string][]crmsync.Record, error)
}

// Bulk are the batch abilities a page uses where the engine's own CRMs
// lack them (b's first when set, else found on the CRM by type
// assertion): the bulk job's adapters of the vendor clients.
type Bulk struct {
	Find   map[crmsync.Side]EmailFinder
	Create map[crmsync.Side]crmsync.BatchCreator
}

// finder is side s's EmailFinder: b's when it names one, else the CRM's
// (nil: none).
func (e *Engine) finder(s crmsync.Side, b Bulk) EmailFinder {
	if f := b.Find[s]; f != nil {
		return f
	}
	if f, ok := e.crm(s).(EmailFinder); ok {
		return f
	}
	return nil
}

// creator is side s's BatchCreator: b's when it names one, else the
// CRM's (nil: none).
func (e *Engine) creator(s crmsync.Side, b Bulk) crmsync.BatchCreator {
	if c := b.Create[s]; c != nil {
		return c
	}
	if c, ok := e.crm(s).(crmsync.BatchCreator); ok {
		return c
	}
	return nil
}

// VendorBatch is the most records one batch call takes on side s:
// HubSpot's batch endpoints 100, Salesforce's collections and SOQL IN 200.
func VendorBatch(s crmsync.Side) int {
	if s == crmsync.Salesforce {
		return 200
	}
	return 100
}

// emailKey names an identity lookup: records of object on side with email
// (lower case).
type emailKey struct {
	side   crmsync.Side
	object crmsync.ObjectType
	email  string
}

func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ResolvePage resolves a bulk job's page of triggers — each record of the
// page once — as ResolveBatch does (errs[i] non-nil: retry trigger i, its
// page waits), with the page's reads and writes batched (see the top of
// bulk.go).
func (e *Engine) ResolvePage(ctx context.Context, ts []crmsync.Trigger, b Bulk) ([]Outcome, []error) {
	outs := make([]Outcome, len(ts))
	errs := make([]error, len(ts))
	settings, err := e.Settings(ctx)
	if err != nil {
		return retryAll(ts, err)
	}
	e.freshBudget()
	jobOf := make([]*job, len(ts))
	byLink := map[string]*job{}
	var bulk, single []*job
	for i, t := range ts {
		j := &job{t: t, settings: settings}
		jobOf[i] = j
		if !e.gate(ctx, j) {
			continue
		}
		if first := e.loadLink(ctx, j, byLink); first != nil {
			jobOf[i] = first
			first.also = append(first.also, t)
			continue
		}
		switch {
		case j.res.err != nil:
		case (j.link == nil || batchable(j)) && !drivesLifecycle(t, settings):
			bulk = append(bulk, j)
		default: // a reservation, a merge, a lifecycle trigger
			single = append(single, j)
		}
	}
	later := e.resolveBulk(ctx, bulk, b)
	for _, j := range append(single, later...) {
		e.resolveJobs(ctx, []*job{j})
	}
	for i, t := range ts {
		outs[i], errs[i] = e.finish(ctx, t, jobOf[i])
	}
	return outs, errs
}

// CheckBudget reports whether work like t may call Salesforce now: nil,
// or an error wrapping crmsync.ErrBudget that says why it waits (a bulk
// job asks before the calls it makes itself, such as listing a page).
// The share is computed afresh. Other errors are the store's.
func (e *Engine) CheckBudget(ctx context.Context, t crmsync.Trigger) error {
	settings, err := e.Settings(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.freshBudget()
	return e.checkBudget(ctx, t, settings)
}

// freshBudget drops the cached usage share: the next budget check
// computes it.
func (e *Engine) freshBudget() {
	e.budget.mu.Lock()
	e.budget.computed = time.Time{}
	e.budget.mu.Unlock()
}

// resolveBulk reads, decides and applies a page's jobs together. It
// returns the jobs it left for later: records sharing an email with an
// earlier one of the page.
func (e *Engine) resolveBulk(ctx context.Context, jobs []*job, b Bulk) []*job {
	live := e.withinBudget(ctx, jobs)
	pre, live, later := e.readPage(ctx, live, b)
	for _, j := range live {
		f, err := e.read(ctx, j, pre)
		j.f, j.link = f, f.link
		if err != nil {
			j.plan = failureOf(f, err)
		} else {
			j.plan = decide(f)
		}
	}
	e.applyPage(ctx, live, b)
	return later
}

// readPage reads what a page's resolutions need with batch calls: every
// job's source record and linked record, and the identity matches of the
// unlinked ones by email. It returns the jobs to resolve now and those
// to resolve after them (an email already in the page). A failed batch
// read is not an error: the jobs then read one by one.
func (e *Engine) readPage(ctx context.Context, jobs []*job, b Bulk) (*prefetch, []*job, []*job) {
	pre := &prefetch{records: map[crmsync.RecordRef]crmsync.Record{}, missing: map[crmsync.RecordRef]bool{},
		matches: map[emailKey][]crmsync.Record{}}
	ids := map[batchKey][]string{}
	var order []batchKey
	for _, j := range jobs {
		refs := []crmsync.RecordRef{j.t.Record}
		if j.link != nil {
			refs = j.link.Refs()
		}
		for _, ref := range refs {
			k := batchKey{ref.Side, ref.Object}
			if _, ok := ids[k]; !ok {
				order = append(order, k)
			}
			ids[k] = append(ids[k], ref.ID)
		}
	}
	for _, k := range order {
		got, err := e.crm(k.side).GetMany(ctx, k.object, ids[k], readProperties(jobs[0].settings, k.side, k.object))
		if err != nil {
			e.logger().WarnContext(ctx, "page read failed; reading one by one", "side", k.side, "object", k.object, "error", err)
			continue
		}
		for _, id := range ids[k] {
			ref := crmsync.RecordRef{Side: k.side, Object: k.object, ID: id}
			if rec, ok := got[id]; ok {
				pre.records[ref] = rec
			} else {
				pre.missing[ref] = true
			}
		}
	}
	now, later := e.firstPerEmail(jobs, pre)
	e.matchEmails(ctx, now, pre, b)
	return pre, now, later
}

// firstPerEmail splits unlinked contacts sharing an email: the first of
// each email now, the others later.
func (e *Engine) firstPerEmail(jobs []*job, pre *prefetch) (now, later []*job) {
	seen := map[string]bool{}
	for _, j := range jobs {
		rec, ok := pre.records[j.t.Record]
		email := normalEmail(emailOf(rec))
		if j.link != nil || !ok || !j.pair.isContact() || email == "" {
			now = append(now, j)
			continue
		}
		if seen[email] {
			later = append(later, j)
			continue
		}
		seen[email] = true
		now = append(now, j)
	}
	return now, later
}

// matchEmails finds the other side's records of the unlinked contacts'
// emails, with one EmailFinder call per side and match type.
func (e *Engine) matchEmails(ctx context.Context, jobs []*job, pre *prefetch, b Bulk) {
	emails := map[batchKey][]string{}
	var order []batchKey
	for _, j := range jobs {
		rec, ok := pre.records[j.t.Record]
		email := normalEmail(emailOf(rec))
		if j.link != nil || !ok || !j.pair.isContact() || email == "" {
			continue
		}
		other := j.t.Record.Side.Other()
		for _, o := range j.pair.matchTypes(other) {
			k := batchKey{other, o}
			if _, ok := emails[k]; !ok {
				order = append(order, k)
			}
			emails[k] = append(emails[k], email)
		}
	}
	for _, k := range order {
		f := e.finder(k.side, b)
		if f == nil {
			continue
		}
		found, err := f.FindByEmails(ctx, k.object, emails[k], readProperties(jobs[0].settings, k.side, k.object))
		if err != nil {
			e.logger().WarnContext(ctx, "bulk identity match failed; matching one by one", "side", k.side, "object", k.object, "error", err)
			continue
		}
		for _, email := range emails[k] {
			pre.matches[emailKey{k.side, k.object, email}] = found[email]
		}
	}
}

// applyPage performs a page's plans as apply does, with every creation
// sent in vendor batches where the target CRM can.
func (e *Engine) applyPage(ctx context.Context, jobs []*job, b Bulk) {
	e.applyWith(ctx, jobs, b, func(*job) bool { return true })
}

// createMany creates the jobs' records with one batch call per side and
// object type (the creator splits it into vendor batches), each source
// reserved (or its stale reservation claimed) first.
func (e *Engine) createMany(ctx context.Context, jobs []*job, b Bulk) {
	groups := map[batchKey][]*job{}
	var order []batchKey
	for _, j := range jobs {
		if j.plan.Link.Claim && !e.claim(ctx, j) {
			continue
		}
		if j.plan.Link.Reserve && !e.reserve(ctx, j) {
			continue
		}
		w := j.plan.Writes.Create
		k := batchKey{w.Ref.Side, w.Ref.Object}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	for _, k := range order {
		js := groups[k]
		records := make([]map[string]string, len(js))
		for i, j := range js {
			records[i] = j.plan.Writes.Create.Props
		}
		results, err := e.creator(k.side, b).CreateMany(ctx, k.object, records)
		for i, j := range js {
			var r crmsync.CreateResult
			switch {
			case i < len(results):
				r = results[i]
			case err != nil:
				r.Err = err
			default:
				r.Err = errRetry{fmt.Sprintf("create %s %s: no result for record %d of the batch", k.side, k.object, i)}
			}
			if r.Err == nil && r.ID == "" {
				r.Err = errRetry{fmt.Sprintf("create %s %s: no id for record %d of the batch", k.side, k.object, i)}
			}
			if r.Err != nil {
				e.createFailed(ctx, j, r.Err)
				continue
			}
			j.created(crmsync.RecordRef{Side: k.side, Object: k.object, ID: r.ID}, time.Time{})
		}
	}
}
