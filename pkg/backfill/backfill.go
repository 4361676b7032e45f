// Package backfill is crmsync's first sync of an existing portal and org
// (`crmsync backfill`), and its dry run (`crmsync plan -backfill`).
//
// A Job pages through each side's records of every enabled object pair —
// companies ⇄ accounts, then contacts ⇄ leads and contacts, then deals ⇄
// opportunities (so a contact's company is linked before the contact),
// HubSpot's side first — and has the engine resolve each page at once
// (engine.Engine.ResolvePage: batched reads, identities matched by many
// emails per call, creations and updates in vendor batches). A page's
// triggers are manual resyncs marked crmsync.DeliveryBackfill, which the
// engine's API budget ranks P3, the lowest priority.
//
// Decisions:
//
//   - Pages: Size records (default 200, Salesforce's collection size): up
//     to two HubSpot list pages of 100, or one SOQL keyset page (Id > last
//     ORDER BY Id). Reading a page costs HubSpot two calls per 100
//     (list, batch read) and Salesforce two per 200 (ids, SOQL IN read);
//     matching identities one query per 200 (100 on HubSpot) and match
//     type; creating one call per batch where the CRM creates in batches.
//   - Checkpoint: after each page, in the store, as the checkpoint of the
//     lease "backfill" (crmsync.Leases), which also keeps two backfills
//     from running at once. An interrupted backfill resumes at the first
//     page not completed; records of a page that completed in part are
//     dropped as repeats by their dedupe keys when the page runs again.
//   - Budget: a page the budget pauses (engine: P3 pauses at 75 % of the
//     Salesforce allocation by default, resumes below 70 %) is not
//     checkpointed: Step reports the pause and the caller waits and runs
//     it again. Nothing is dropped. Other failures of a page are returned
//     (the page is tried again by the next Step, or the next run).
//   - Records changed during the backfill are synced by the real-time path
//     and the sweep as usual; the backfill's own writes are echoes the
//     engine drops.
package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// Pager lists one side's records of an object type, a page at a time, in
// a stable order.
type Pager interface {
	// Page returns up to limit ids of records of o after the position
	// after ("" = from the start) and the position after them ("" = there
	// are no more). Errors are vendor errors.
	Page(ctx context.Context, o crmsync.ObjectType, after string, limit int) (ids []string, next string, err error)
	// Count returns how many records of o there are (for the ETA).
	Count(ctx context.Context, o crmsync.ObjectType) (int, error)
}

// Resolver resolves a page; *engine.Engine is one.
type Resolver interface {
	ResolvePage(ctx context.Context, ts []crmsync.Trigger, b engine.Bulk) ([]engine.Outcome, []error)
	// CheckBudget says whether a trigger like t may call Salesforce now
	// (nil) or waits (an error wrapping crmsync.ErrBudget).
	CheckBudget(ctx context.Context, t crmsync.Trigger) error
}

// Links reads links; crmsync.Links is one (the store).
type Links interface {
	GetLink(ctx context.Context, ref crmsync.RecordRef) (crmsync.Link, error)
}

// Checkpoints keep the job's position; crmsync.Leases is one (the store).
type Checkpoints interface {
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (crmsync.Lease, bool, error)
	ReleaseLease(ctx context.Context, name, owner, checkpoint string) error
}

// Target is one side and object type a job pages through.
type Target struct {
	Side   crmsync.Side       `json:"side"`
	Object crmsync.ObjectType `json:"object"`
}

func (t Target) String() string { return string(t.Side) + "/" + string(t.Object) }

// Targets are the sides and object types of the object pairs settings
// sync, in the order a backfill takes them: contacts first (Salesforce's
// leads and contacts, then HubSpot's), then companies (HubSpot's first,
// matched to an Account through their contacts, then Salesforce's), then
// deals.
//
// Salesforce goes first within contacts because a side's records that
// the backfill itself created are skipped but still listed: listing the
// records created in HubSpot costs HubSpot calls, which are plentiful,
// rather than Salesforce's.
func Targets(s crmsync.Settings) []Target {
	var out []Target
	if s.Objects.Contacts {
		out = append(out, Target{crmsync.Salesforce, crmsync.SFLead}, Target{crmsync.Salesforce, crmsync.SFContact}, Target{crmsync.HubSpot, crmsync.HSContact})
	}
	if s.Objects.Companies {
		out = append(out, Target{crmsync.HubSpot, crmsync.HSCompany}, Target{crmsync.Salesforce, crmsync.SFAccount})
	}
	if s.Objects.Deals {
		out = append(out, Target{crmsync.HubSpot, crmsync.HSDeal}, Target{crmsync.Salesforce, crmsync.SFOpportunity})
	}
	return out
}

// LeaseName is the lease holding a backfill's checkpoint.
const LeaseName = "backfill"

// DefaultSize is the records per page.
const DefaultSize = 200

// leaseTTL is how long a step holds the lease: longer than a page takes.
const leaseTTL = 10 * time.Minute

// Job is a backfill. Every field but Bulk, Size and Now is required.
type Job struct {
	Targets []Target
	Pagers  map[crmsync.Side]Pager
	Engine  Resolver
	// Bulk are the batch abilities the engine's CRMs lack (the adapters
	// of this package).
	Bulk        engine.Bulk
	Checkpoints Checkpoints
	// Links, when set, lets a page skip the records this backfill has
	// already linked (a Salesforce lead created from a HubSpot contact
	// a page earlier): nothing changed since, so resolving them again
	// would only cost reads.
	Links Links
	// Owner names this process in the lease (e.g. host and pid).
	Owner string
	Size  int
	Now   func() time.Time
}

// Checkpoint is where a backfill stands: stored after every page.
type Checkpoint struct {
	// Run identifies the backfill (its dedupe keys); Started is when it
	// began.
	Run     string    `json:"run"`
	Started time.Time `json:"started"`
	// Target indexes Targets; After is the position in it.
	Target int    `json:"target"`
	After  string `json:"after,omitempty"`
	// Done counts the records resolved, Totals the records per target
	// when the backfill started.
	Done   int   `json:"done"`
	Totals []int `json:"totals,omitempty"`
	// Decisions counts the resolutions per decision; Skipped the records
	// this backfill had linked already (Job.Links).
	Decisions map[engine.Decision]int `json:"decisions,omitempty"`
	Skipped   int                     `json:"skipped,omitempty"`
}

// Progress is what a step did and where the job stands.
type Progress struct {
	Checkpoint
	// Current is the target being paged ("" when finished).
	Current string `json:"current,omitempty"`
	// Total is the records at the start, over every target.
	Total int `json:"total"`
	// Page is the records of this step's page.
	Page int `json:"page"`
	// Paused, when set, says why the page waits (the API budget): run
	// the step again later.
	Paused   string `json:"paused,omitempty"`
	Finished bool   `json:"finished"`
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Job) size() int {
	if j.Size > 0 {
		return j.Size
	}
	return DefaultSize
}

// Step resolves the next page and checkpoints it. A page the budget
// pauses is reported in Progress.Paused and not checkpointed. Errors:
// crmsync.ErrConflict when another process holds the backfill; a failed
// listing, store or page (the page runs again at the next Step).
func (j *Job) Step(ctx context.Context) (Progress, error) {
	cp, err := j.acquire(ctx)
	if err != nil {
		return Progress{}, err
	}
	next, p, err := j.step(ctx, cp)
	if rerr := j.Checkpoints.ReleaseLease(ctx, LeaseName, j.Owner, encode(next)); rerr != nil {
		err = errors.Join(err, fmt.Errorf("backfill: checkpoint: %w", rerr))
	}
	return p, err
}

// Restart forgets the checkpoint, so the next Step begins a new backfill
// from the first page (after one finished, or to start over).
// crmsync.ErrConflict while another process runs a backfill.
func (j *Job) Restart(ctx context.Context) error {
	if _, err := j.lease(ctx); err != nil {
		return err
	}
	if err := j.Checkpoints.ReleaseLease(ctx, LeaseName, j.Owner, ""); err != nil {
		return fmt.Errorf("backfill: forget the checkpoint: %w", err)
	}
	return nil
}

// lease takes the backfill's lease.
func (j *Job) lease(ctx context.Context) (crmsync.Lease, error) {
	l, ok, err := j.Checkpoints.AcquireLease(ctx, LeaseName, j.Owner, leaseTTL)
	if err != nil {
		return l, fmt.Errorf("backfill: take the lease: %w", err)
	}
	if !ok {
		return l, fmt.Errorf("backfill: %w: %s runs a backfill (lease until %s)", crmsync.ErrConflict, l.Owner, l.Until.Format(time.RFC3339))
	}
	return l, nil
}

// acquire takes the lease and reads the checkpoint.
func (j *Job) acquire(ctx context.Context) (Checkpoint, error) {
	l, err := j.lease(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	var cp Checkpoint
	if l.Checkpoint != "" {
		if err := json.Unmarshal([]byte(l.Checkpoint), &cp); err != nil {
			return Checkpoint{}, fmt.Errorf("backfill: checkpoint %q: %w: %v", l.Checkpoint, crmsync.ErrInvalid, err)
		}
	}
	if cp.Run == "" {
		cp.Started = j.now()
		cp.Run = strconv.FormatInt(cp.Started.UnixNano(), 36)
	}
	return cp, nil
}

func encode(cp Checkpoint) string {
	b, _ := json.Marshal(cp) // a struct of plain fields: never fails
	return string(b)
}

// step runs one page from cp and returns the checkpoint to store.
func (j *Job) step(ctx context.Context, cp Checkpoint) (Checkpoint, Progress, error) {
	// The job's own Salesforce calls (counting, listing) wait for the
	// budget as its pages do.
	probe := Triggers(Target{crmsync.Salesforce, crmsync.SFLead}, []string{"backfill"}, cp.Run, j.now())[0]
	if err := j.Engine.CheckBudget(ctx, probe); errors.Is(err, crmsync.ErrBudget) {
		p := j.progress(cp, 0)
		p.Paused = err.Error()
		return cp, p, nil
	} else if err != nil {
		return cp, j.progress(cp, 0), fmt.Errorf("backfill: %w", err)
	}
	if cp.Totals == nil {
		totals, err := j.count(ctx)
		if err != nil {
			return cp, j.progress(cp, 0), err
		}
		cp.Totals = totals
	}
	if cp.Target >= len(j.Targets) {
		return cp, j.progress(cp, 0), nil
	}
	t := j.Targets[cp.Target]
	ids, after, err := j.list(ctx, t, cp.After)
	if err != nil {
		return cp, j.progress(cp, 0), fmt.Errorf("backfill: %w", err)
	}
	listed := len(ids)
	ids, err = j.unlinkedByThisRun(ctx, t, ids, cp.Started)
	if err != nil {
		return cp, j.progress(cp, 0), fmt.Errorf("backfill: %w", err)
	}
	var outs []engine.Outcome
	var errs []error
	if len(ids) > 0 {
		outs, errs = j.Engine.ResolvePage(ctx, Triggers(t, ids, cp.Run, j.now()), j.Bulk)
	}
	p := j.progress(cp, listed)
	var failed []error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, crmsync.ErrBudget):
			p.Paused = err.Error()
		default:
			failed = append(failed, err)
		}
	}
	if p.Paused != "" || len(failed) > 0 {
		if len(failed) > 0 {
			return cp, p, fmt.Errorf("backfill: %s: %d of %d records to retry: %w", t, len(failed), len(ids), failed[0])
		}
		return cp, p, nil
	}
	if cp.Decisions == nil {
		cp.Decisions = map[engine.Decision]int{}
	}
	for _, o := range outs {
		cp.Decisions[o.Decision]++
	}
	cp.Done += listed
	cp.Skipped += listed - len(ids)
	cp.After = after
	if after == "" {
		cp.Target++
	}
	return cp, j.progress(cp, listed), nil
}

// unlinkedByThisRun leaves out of ids the records linked since started
// (by this backfill's earlier pages).
func (j *Job) unlinkedByThisRun(ctx context.Context, t Target, ids []string, started time.Time) ([]string, error) {
	if j.Links == nil || started.IsZero() {
		return ids, nil
	}
	out := ids[:0:0]
	for _, id := range ids {
		l, err := j.Links.GetLink(ctx, crmsync.RecordRef{Side: t.Side, Object: t.Object, ID: id})
		switch {
		case err == nil && l.Status == crmsync.LinkActive && !l.CreatedAt.Before(started):
			continue
		case err != nil && !errors.Is(err, crmsync.ErrNotFound):
			return nil, fmt.Errorf("get link: %w", err)
		}
		out = append(out, id)
	}
	return out, nil
}

// count reads the record count of every target.
func (j *Job) count(ctx context.Context) ([]int, error) {
	totals := make([]int, len(j.Targets))
	for i, t := range j.Targets {
		n, err := j.pager(t).Count(ctx, t.Object)
		if err != nil {
			return nil, fmt.Errorf("backfill: %w", err)
		}
		totals[i] = n
	}
	return totals, nil
}

func (j *Job) pager(t Target) Pager { return j.Pagers[t.Side] }

// list reads up to a page of ids of t after the position after, with as
// many pager pages as it takes.
func (j *Job) list(ctx context.Context, t Target, after string) ([]string, string, error) {
	var ids []string
	for len(ids) < j.size() {
		got, next, err := j.pager(t).Page(ctx, t.Object, after, j.size()-len(ids))
		if err != nil {
			return nil, "", err
		}
		ids, after = append(ids, got...), next
		if next == "" {
			break
		}
	}
	return ids, after, nil
}

// progress describes cp after a page of n records.
func (j *Job) progress(cp Checkpoint, n int) Progress {
	p := Progress{Checkpoint: cp, Page: n, Finished: cp.Target >= len(j.Targets)}
	if !p.Finished {
		p.Current = j.Targets[cp.Target].String()
	}
	for _, n := range cp.Totals {
		p.Total += n
	}
	return p
}

// Triggers are a page's triggers: manual resyncs marked as a backfill's
// (P3), keyed by the run and the record so a page run again drops what
// it already resolved.
func Triggers(t Target, ids []string, run string, now time.Time) []crmsync.Trigger {
	ts := make([]crmsync.Trigger, len(ids))
	for i, id := range ids {
		ref := crmsync.RecordRef{Side: t.Side, Object: t.Object, ID: id}
		ts[i] = crmsync.Trigger{Record: ref, Kind: crmsync.KindManualResync, OccurredAt: now,
			DeliveryID: crmsync.DeliveryBackfill, DedupeKey: crmsync.DedupeKeyOf(crmsync.DeliveryBackfill, run, ref.Key())}
	}
	return ts
}

// Run steps until the backfill is done, calling progress after every
// step and waiting wait (by sleep) whenever the budget pauses a page.
func (j *Job) Run(ctx context.Context, wait time.Duration, sleep func(context.Context, time.Duration) error, progress func(Progress)) (Progress, error) {
	for {
		p, err := j.Step(ctx)
		if err != nil {
			return p, err
		}
		if progress != nil {
			progress(p)
		}
		if p.Finished {
			return p, nil
		}
		if p.Paused != "" {
			if err := sleep(ctx, wait); err != nil {
				return p, err
			}
		}
	}
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
