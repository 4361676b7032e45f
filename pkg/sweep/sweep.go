package sweep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// Defaults of the Sweeper's settings.
const (
	DefaultBudget         = 10 * time.Minute
	DefaultLag            = 2 * time.Minute
	DefaultDriftLimit     = 200
	DefaultRetryLimit     = 1000
	DefaultBatchSize      = 200
	DefaultDeadlineMargin = 15 * time.Second
	// LeaseName is the Store lease a run holds.
	LeaseName = "sweep"
	// leaseMargin is how much longer than the budget the lease lasts:
	// time for the last batch, the cursor write and the release.
	leaseMargin = time.Minute
)

// Sweeper runs sweeps. Store and Queue are required; a side without a
// Source is not swept, and drift is checked only when both CRMs are set.
// The other fields have defaults. A Sweeper may be used by concurrent Run
// calls (the lease lets one of them work).
type Sweeper struct {
	Store crmsync.Store
	Queue Sender
	// Sources lists each side's changes.
	Sources map[crmsync.Side]Source
	// CRMs re-read linked records for the drift check.
	CRMs map[crmsync.Side]crmsync.CRM
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
	// Budget is how long a run starts new work (DefaultBudget when 0); set
	// it below the Lambda timeout. A run also stops DeadlineMargin before
	// ctx's deadline.
	Budget         time.Duration
	DeadlineMargin time.Duration
	// Lag is how far behind now the change cursors stay (DefaultLag when
	// 0; negative means none).
	Lag time.Duration
	// DriftLimit is the number of links checked per run (DefaultDriftLimit
	// when 0; negative turns drift checks off).
	DriftLimit int
	// RetryLimit is the number of due errors re-enqueued per run
	// (DefaultRetryLimit when 0; negative turns retries off).
	RetryLimit int
	// BatchSize is the number of triggers per Send and cursor write
	// (DefaultBatchSize when 0).
	BatchSize int
	// StartAt is where a side and object without a cursor starts (zero:
	// from the beginning).
	StartAt time.Time
}

// Report says what a run did; functions/sweep turns it into metrics.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Skipped is set when another sweep held the lease (Holder, until
	// HeldUntil); the run did nothing.
	Skipped   bool      `json:"skipped,omitempty"`
	Holder    string    `json:"holder,omitempty"`
	HeldUntil time.Time `json:"held_until,omitzero"`
	// Stopped is set when the budget ran out before the work did; the next
	// run resumes.
	Stopped bool           `json:"stopped,omitempty"`
	Objects []ObjectReport `json:"objects,omitempty"`
	// Retries is the number of errored records re-enqueued.
	Retries int         `json:"retries"`
	Drift   DriftReport `json:"drift"`
	// BehindDeletedWindow is set when some object's cursor is older than
	// its side keeps deletions: deletes may have been missed.
	BehindDeletedWindow bool     `json:"behind_deleted_window,omitempty"`
	Errors              []string `json:"errors,omitempty"`
}

// ObjectReport is one side and object type's part of a run.
type ObjectReport struct {
	Side   crmsync.Side       `json:"side"`
	Object crmsync.ObjectType `json:"object"`
	// Changes and Deletes count the triggers enqueued.
	Changes int `json:"changes"`
	Deletes int `json:"deletes"`
	// Cursor is the cursor after the run; Lag is how far it is behind the
	// run's start.
	Cursor crmsync.Cursor `json:"cursor"`
	Lag    time.Duration  `json:"lag"`
	// CaughtUp is set when every change up to now − Lag was enqueued.
	CaughtUp            bool   `json:"caught_up"`
	BehindDeletedWindow bool   `json:"behind_deleted_window,omitempty"`
	Error               string `json:"error,omitempty"`
}

// DriftReport is the drift check's part of a run.
type DriftReport struct {
	Checked int `json:"checked"`
	Drifted int `json:"drifted"`
	// Wrapped is set when the check reached the last link and starts from
	// the first next run.
	Wrapped bool `json:"wrapped,omitempty"`
}

// Enqueued is the number of triggers the run enqueued.
func (r Report) Enqueued() int {
	n := r.Retries + r.Drift.Drifted
	for _, o := range r.Objects {
		n += o.Changes + o.Deletes
	}
	return n
}

// Errors that end a source's listing from inside its callback.
var (
	errBudget   = errors.New("sweep budget spent")
	errCaughtUp = errors.New("caught up to now minus lag")
)

// run is the state of one Run.
type run struct {
	s        *Sweeper
	started  time.Time
	stopAt   time.Time
	deadline time.Time // ctx's deadline minus the margin (zero: none)
	settings crmsync.Settings
	rep      *Report
	errs     []error
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func orDefault[T int | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// Run performs one sweep. The error joins every failure (also listed in
// Report.Errors); the report is valid either way.
func (s *Sweeper) Run(ctx context.Context) (Report, error) {
	r := &run{s: s, started: s.now(), rep: &Report{}}
	r.rep.Started = r.started
	budget := orDefault(s.Budget, DefaultBudget)
	r.stopAt = r.started.Add(budget)
	if dl, ok := ctx.Deadline(); ok {
		r.deadline = dl.Add(-orDefault(s.DeadlineMargin, DefaultDeadlineMargin))
	}

	owner := newOwner()
	lease, held, err := s.Store.AcquireLease(ctx, LeaseName, owner, budget+leaseMargin)
	if err != nil {
		return *r.rep, fmt.Errorf("sweep: acquire lease: %w", err)
	}
	if !held {
		r.rep.Skipped, r.rep.Holder, r.rep.HeldUntil = true, lease.Owner, lease.Until
		r.rep.Finished = s.now()
		s.logger().InfoContext(ctx, "sweep skipped: another sweep holds the lease",
			"holder", lease.Owner, "until", lease.Until)
		return *r.rep, nil
	}
	checkpoint := lease.Checkpoint
	if r.settings, err = s.loadSettings(ctx); err != nil {
		r.fail(err)
	} else {
		r.retries(ctx)
		for _, side := range crmsync.Sides {
			src := s.Sources[side]
			if src == nil {
				continue
			}
			for _, o := range objectsOf(side, r.settings.Objects) {
				r.object(ctx, side, o, src)
			}
		}
		checkpoint = r.drift(ctx, checkpoint)
	}
	// Release even when ctx is done, so the next run need not wait for the
	// lease to expire. (A run that dies leaves it to expire.)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Store.ReleaseLease(rctx, LeaseName, owner, checkpoint); err != nil {
		r.fail(fmt.Errorf("sweep: release lease: %w", err))
	}
	r.rep.Finished = s.now()
	s.logger().InfoContext(ctx, "sweep done", "enqueued", r.rep.Enqueued(), "retries", r.rep.Retries,
		"drift_checked", r.rep.Drift.Checked, "drifted", r.rep.Drift.Drifted, "stopped", r.rep.Stopped,
		"behind_deleted_window", r.rep.BehindDeletedWindow, "errors", len(r.errs))
	return *r.rep, errors.Join(r.errs...)
}

func (s *Sweeper) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Sweeper) loadSettings(ctx context.Context) (crmsync.Settings, error) {
	st, err := s.Store.GetSettings(ctx)
	if errors.Is(err, crmsync.ErrNotFound) {
		st = crmsync.DefaultSettings()
		st.Mappings = mapping.DefaultMappings(st.DefaultRule)
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("sweep: load settings: %w", err)
	}
	return st, nil
}

// objectsOf lists the object types of side that the toggles sync.
func objectsOf(side crmsync.Side, t crmsync.ObjectToggles) []crmsync.ObjectType {
	var out []crmsync.ObjectType
	if side == crmsync.HubSpot {
		if t.Contacts {
			out = append(out, crmsync.HSContact)
		}
		if t.Companies {
			out = append(out, crmsync.HSCompany)
		}
		if t.Deals {
			out = append(out, crmsync.HSDeal)
		}
		return out
	}
	if t.Contacts {
		out = append(out, crmsync.SFLead, crmsync.SFContact)
	}
	if t.Companies {
		out = append(out, crmsync.SFAccount)
	}
	if t.Deals {
		out = append(out, crmsync.SFOpportunity)
	}
	return out
}

func (r *run) fail(err error) {
	r.errs = append(r.errs, err)
	r.rep.Errors = append(r.rep.Errors, err.Error())
}

// spent reports whether the run should start no more work, and notes it.
func (r *run) spent() bool {
	if r.s.now().Before(r.stopAt) && (r.deadline.IsZero() || time.Now().Before(r.deadline)) {
		return false
	}
	r.rep.Stopped = true
	return true
}

func (r *run) send(ctx context.Context, ts []crmsync.Trigger) error {
	if len(ts) == 0 {
		return nil
	}
	if err := r.s.Queue.Send(ctx, ts); err != nil {
		return fmt.Errorf("send %d triggers: %w", len(ts), err)
	}
	return nil
}

func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// changeTrigger is the trigger of a changed record.
func changeTrigger(c Change, now time.Time) crmsync.Trigger {
	at := c.Modified
	if at.IsZero() {
		at = now
	}
	return crmsync.Trigger{Record: c.Ref, Kind: crmsync.KindSweep, OccurredAt: at,
		DedupeKey: crmsync.DedupeKeyOf("sweep", c.Ref.Key(), timeKey(c.Modified))}
}

func deleteTrigger(c Change, now time.Time) crmsync.Trigger {
	at := c.Modified
	if at.IsZero() {
		at = now
	}
	return crmsync.Trigger{Record: c.Ref, Kind: crmsync.KindDeleted, OccurredAt: at,
		DedupeKey: crmsync.DedupeKeyOf("sweep-deleted", c.Ref.Key(), timeKey(c.Modified))}
}

// retries enqueues the errored records due at the run's start, of the
// object types whose sync is on.
func (r *run) retries(ctx context.Context) {
	limit := orDefault(r.s.RetryLimit, DefaultRetryLimit)
	if limit < 0 {
		return
	}
	page := crmsync.PageRequest{Limit: min(limit, 500)}
	for r.rep.Retries < limit && !r.spent() {
		due, next, err := r.s.Store.ListSyncErrorsDue(ctx, r.started, page)
		if err != nil {
			r.fail(fmt.Errorf("sweep: list errors due: %w", err))
			return
		}
		if len(due) > limit-r.rep.Retries {
			due = due[:limit-r.rep.Retries]
		}
		ts := make([]crmsync.Trigger, 0, len(due))
		for _, e := range due {
			if !slices.Contains(objectsOf(e.Record.Side, r.settings.Objects), e.Record.Object) {
				continue // its sync is off: the engine would skip it
			}
			at := e.LastSeen
			if at.IsZero() {
				at = r.started
			}
			ts = append(ts, crmsync.Trigger{Record: e.Record, Kind: crmsync.KindManualResync, OccurredAt: at,
				Attempt: e.Attempts, DedupeKey: crmsync.DedupeKeyOf("sweep-retry", e.Record.Key(),
					timeKey(e.FirstSeen), strconv.Itoa(e.Attempts))})
		}
		if err := r.send(ctx, ts); err != nil {
			r.fail(fmt.Errorf("sweep: retries: %w", err))
			return
		}
		r.rep.Retries += len(ts)
		if next == "" {
			return
		}
		page.Token = next
	}
}

// object sweeps one side and object type: deletions, then changes.
func (r *run) object(ctx context.Context, side crmsync.Side, o crmsync.ObjectType, src Source) {
	rep := ObjectReport{Side: side, Object: o}
	defer func() {
		if !rep.Cursor.Timestamp.IsZero() {
			rep.Lag = max(r.started.Sub(rep.Cursor.Timestamp), 0)
		}
		r.rep.Objects = append(r.rep.Objects, rep)
	}()
	failed := func(err error) {
		err = fmt.Errorf("sweep %s %s: %w", side, o, err)
		rep.Error = err.Error()
		r.fail(err)
	}
	if r.spent() {
		return
	}
	cur, err := r.s.Store.GetCursor(ctx, side, o)
	fresh := errors.Is(err, crmsync.ErrNotFound)
	switch {
	case fresh:
		cur = crmsync.Cursor{Side: side, Object: o, Timestamp: r.s.StartAt.UTC()}
	case err != nil:
		failed(fmt.Errorf("get cursor: %w", err))
		return
	}
	rep.Cursor = cur
	lag := orDefault(r.s.Lag, DefaultLag)
	until := r.started.Add(-max(lag, 0)).Truncate(time.Second)

	if del, ok := src.(Deletions); ok && !fresh && until.After(cur.Timestamp) {
		var ts []crmsync.Trigger
		start, err := del.Deleted(ctx, o, cur.Timestamp, until, func(c Change) error {
			ts = append(ts, deleteTrigger(c, r.started))
			return nil
		})
		if err != nil {
			failed(fmt.Errorf("list deletions: %w", err))
			return
		}
		if start.After(cur.Timestamp) {
			rep.BehindDeletedWindow, r.rep.BehindDeletedWindow = true, true
		}
		if err := r.send(ctx, ts); err != nil {
			failed(fmt.Errorf("deletions: %w", err))
			return
		}
		rep.Deletes = len(ts)
	}

	size := orDefault(r.s.BatchSize, DefaultBatchSize)
	batch := make([]crmsync.Trigger, 0, size)
	var last Change // the last change in batch
	var sendErr error
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := r.send(ctx, batch); err != nil {
			sendErr = err
			return err
		}
		rep.Changes += len(batch)
		batch = batch[:0]
		next := crmsync.Cursor{Side: side, Object: o, Timestamp: last.Modified.UTC(), LastID: last.Ref.ID, UpdatedAt: r.s.now()}
		if err := r.s.Store.PutCursor(ctx, next); err != nil {
			return fmt.Errorf("put cursor: %w", err)
		}
		rep.Cursor = next
		return nil
	}
	err = src.Changes(ctx, o, cur, func(c Change) error {
		if c.Modified.After(until) {
			return errCaughtUp
		}
		if r.spent() {
			return errBudget
		}
		batch = append(batch, changeTrigger(c, r.started))
		last = c
		if len(batch) == size {
			return flush()
		}
		return nil
	})
	caughtUp := err == nil || errors.Is(err, errCaughtUp)
	if err != nil && !caughtUp && !errors.Is(err, errBudget) {
		if sendErr == nil {
			// The listing failed: keep what was read before, then report.
			if ferr := flush(); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
		failed(fmt.Errorf("list changes: %w", err))
		return
	}
	if err := flush(); err != nil {
		failed(err)
		return
	}
	if !caughtUp {
		return
	}
	rep.CaughtUp = true
	// Everything up to until is enqueued: move the cursor there, so that
	// an object with few changes does not look behind.
	if rep.Cursor.Timestamp.Before(until) {
		next := crmsync.Cursor{Side: side, Object: o, Timestamp: until, UpdatedAt: r.s.now()}
		if err := r.s.Store.PutCursor(ctx, next); err != nil {
			failed(fmt.Errorf("put cursor: %w", err))
			return
		}
		rep.Cursor = next
	}
}

// drift checks a slice of links from checkpoint and returns the position
// for the next run.
func (r *run) drift(ctx context.Context, checkpoint string) string {
	limit := orDefault(r.s.DriftLimit, DefaultDriftLimit)
	hs, sf := r.s.CRMs[crmsync.HubSpot], r.s.CRMs[crmsync.Salesforce]
	if limit < 0 || hs == nil || sf == nil || r.spent() {
		return checkpoint
	}
	links, next, err := r.s.Store.ListLinks(ctx, crmsync.PageRequest{Limit: limit, Token: checkpoint})
	if errors.Is(err, crmsync.ErrInvalid) && checkpoint != "" {
		// A position the store no longer understands: start again.
		checkpoint = ""
		links, next, err = r.s.Store.ListLinks(ctx, crmsync.PageRequest{Limit: limit})
	}
	if err != nil {
		r.fail(fmt.Errorf("sweep: drift: list links: %w", err))
		return checkpoint
	}
	var ts []crmsync.Trigger
	for _, l := range links {
		if r.spent() {
			return checkpoint // this page again next run
		}
		if l.Status != crmsync.LinkActive || l.HubSpot.IsZero() || l.Salesforce.IsZero() {
			continue
		}
		t, drifted, err := r.checkLink(ctx, l, hs, sf)
		if err != nil {
			r.fail(fmt.Errorf("sweep: drift: link %s: %w", l.ID, err))
			return checkpoint
		}
		r.rep.Drift.Checked++
		if drifted {
			ts = append(ts, t)
		}
	}
	if err := r.send(ctx, ts); err != nil {
		r.fail(fmt.Errorf("sweep: drift: %w", err))
		return checkpoint
	}
	r.rep.Drift.Drifted += len(ts)
	r.rep.Drift.Wrapped = next == ""
	return next
}

// checkLink re-reads both records of l and reports whether the merge
// would write to either, with the trigger to enqueue.
func (r *run) checkLink(ctx context.Context, l crmsync.Link, hsCRM, sfCRM crmsync.CRM) (crmsync.Trigger, bool, error) {
	ms := mapping.For(r.settings.Mappings, l.HubSpot.Object, l.Salesforce.Object)
	var hsProps, sfProps []string
	for _, m := range ms {
		hsProps = append(hsProps, m.HubSpotProperty)
		sfProps = append(sfProps, m.SalesforceField)
	}
	trigger := func(ref crmsync.RecordRef, hsAt, sfAt time.Time) crmsync.Trigger {
		return crmsync.Trigger{Record: ref, Kind: crmsync.KindSweep, OccurredAt: r.started,
			DedupeKey: crmsync.DedupeKeyOf("sweep-drift", l.ID, strconv.FormatInt(l.Version, 10), timeKey(hsAt), timeKey(sfAt))}
	}
	hs, err := hsCRM.Get(ctx, l.HubSpot, hsProps)
	if errors.Is(err, crmsync.ErrNotFound) {
		return trigger(l.HubSpot, time.Time{}, time.Time{}), true, nil
	}
	if err != nil {
		return crmsync.Trigger{}, false, fmt.Errorf("read %s: %w", l.HubSpot, err)
	}
	sf, err := sfCRM.Get(ctx, l.Salesforce, sfProps)
	if errors.Is(err, crmsync.ErrNotFound) {
		return trigger(l.Salesforce, hs.LastModified, time.Time{}), true, nil
	}
	if err != nil {
		return crmsync.Trigger{}, false, fmt.Errorf("read %s: %w", l.Salesforce, err)
	}
	plan := mapping.Merge(mapping.Input{Mappings: ms, HubSpot: hs, Salesforce: sf, Shadow: l.Shadow, Now: r.started})
	if plan.Empty() {
		return crmsync.Trigger{}, false, nil
	}
	// The trigger names the side whose change the merge would carry over.
	src := l.Salesforce
	if len(plan.Writes(crmsync.Salesforce)) > 0 {
		src = l.HubSpot
	}
	return trigger(src, hs.LastModified, sf.LastModified), true, nil
}
