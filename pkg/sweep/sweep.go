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
	"github.com/crmsync/crmsync/pkg/engine"
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
// Source is not swept.
// The other fields have defaults. A Sweeper may be used by concurrent Run
// calls (the lease lets one of them work).
type Sweeper struct {
	Store Store
	Queue Sender
	// Sources lists each side's changes.
	Sources map[crmsync.Side]Source
	// Drift checks linked pairs for drift (the engine); nil turns the
	// drift check off.
	Drift DriftChecker
	// Lists polls the inclusion list's memberships (see lists.go); nil
	// turns the inclusion-list trigger off.
	Lists ListJoins
	// Activities polls the webhook-less activities (see activities.go);
	// nil turns form submissions, marketing email events and form
	// campaigns off.
	Activities crmsync.ActivityFeed
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

// Store is what a sweep reads and keeps: the settings, its cursors and
// lease, the links (drift) and the errors due for a retry.
type Store interface {
	crmsync.SettingsStore
	crmsync.Cursors
	crmsync.Leases
	ListLinks(ctx context.Context, page crmsync.PageRequest) ([]crmsync.Link, string, error)
	ListSyncErrorsDue(ctx context.Context, now time.Time, page crmsync.PageRequest) ([]crmsync.SyncError, string, error)
}

// DriftChecker decides whether linked pairs have drifted: the engine's
// own decision (engine.Engine.CheckDrift), so the sweep never re-implements
// the merge.
type DriftChecker interface {
	CheckDrift(ctx context.Context, settings crmsync.Settings, links []crmsync.Link) []engine.Drift
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
	Retries int `json:"retries"`
	// ListJoins is the number of contacts added to the inclusion list
	// since the last poll (enqueued).
	ListJoins int `json:"list_joins,omitempty"`
	// Activities is how many polled activities (form submissions,
	// marketing email events) were enqueued.
	Activities int         `json:"activities,omitempty"`
	Drift      DriftReport `json:"drift"`
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
	// Skipped counts pairs that could not be read (checked again next
	// time round); SkippedErrors names the first few.
	Skipped       int      `json:"skipped,omitempty"`
	SkippedErrors []string `json:"skipped_errors,omitempty"`
	// Wrapped is set when the check reached the last link and starts from
	// the first next run.
	Wrapped bool `json:"wrapped,omitempty"`
	// Stale counts creation reservations (pending links) past their lease
	// whose source was enqueued again, so the creation completes (or is
	// refused) instead of waiting for the record's next change.
	Stale int `json:"stale,omitempty"`
}

// Enqueued is the number of triggers the run enqueued.
func (r Report) Enqueued() int {
	n := r.Retries + r.Drift.Drifted + r.Drift.Stale + r.ListJoins
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
		if n, err := s.pollList(ctx, r.settings.InclusionListID); err != nil {
			r.fail(err)
		} else {
			r.rep.ListJoins = n
		}
		n, err := s.pollActivities(ctx, r.settings, ActivityLookback)
		r.rep.Activities = n
		if err != nil {
			r.fail(err)
		}
		for _, side := range crmsync.Sides {
			src := s.Sources[side]
			if src == nil {
				continue
			}
			for _, o := range objectsOf(side, r.settings) {
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
	st, err := engine.LoadSettings(ctx, s.Store)
	if err != nil {
		return st, fmt.Errorf("sweep: %w", err)
	}
	return st, nil
}

// objectsOf lists the object types of side that the settings sync (or
// that move lifecycle stages).
func objectsOf(side crmsync.Side, s crmsync.Settings) []crmsync.ObjectType {
	t := s.Objects
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
		for _, o := range []crmsync.ObjectType{crmsync.HSCall, crmsync.HSSalesEmail, crmsync.HSMeeting, crmsync.HSNote, crmsync.HSTask} {
			if on, _ := s.Activities.On(o); on {
				out = append(out, o)
			}
		}
		return out
	}
	if t.Contacts {
		out = append(out, crmsync.SFLead, crmsync.SFContact)
	}
	if t.Companies {
		out = append(out, crmsync.SFAccount)
	}
	if t.Deals || engine.LifecycleOn(s) {
		out = append(out, crmsync.SFOpportunity)
	}
	if engine.LifecycleOn(s) {
		// Contact roles have no outbound message: only the sweep finds
		// them (see engine's lifecycle.go).
		out = append(out, crmsync.SFContactRole)
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
			if !slices.Contains(objectsOf(e.Record.Side, r.settings), e.Record.Object) {
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
	case fresh && o.IsActivity():
		// Engagements sync from the moment their toggle is on: no
		// history (see activities.go).
		cur = crmsync.Cursor{Side: side, Object: o, Timestamp: r.started.Add(-max(orDefault(r.s.Lag, DefaultLag), 0)).Truncate(time.Second).UTC()}
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

// drift checks a slice of links from checkpoint with the engine's own
// decision and returns the position for the next run. A pair that cannot
// be read is skipped (counted and reported) and the check goes on; the
// position advances past the page.
func (r *run) drift(ctx context.Context, checkpoint string) string {
	limit := orDefault(r.s.DriftLimit, DefaultDriftLimit)
	if limit < 0 || r.s.Drift == nil || r.spent() {
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
	active := links[:0:0]
	var ts []crmsync.Trigger
	for _, l := range links {
		switch {
		case l.IsRecordPair():
			active = append(active, l)
		case l.Status == crmsync.LinkPending && r.started.Sub(l.UpdatedAt) > engine.PendingLease && !polled(l.HubSpot.Object):
			ts = append(ts, r.staleTrigger(l))
		}
	}
	stale := len(ts)
	for _, d := range r.s.Drift.CheckDrift(ctx, r.settings, active) {
		if d.Err != nil {
			r.rep.Drift.Skipped++
			if len(r.rep.Drift.SkippedErrors) < maxSkippedReported {
				r.rep.Drift.SkippedErrors = append(r.rep.Drift.SkippedErrors, fmt.Sprintf("link %s: %v", d.Link.ID, d.Err))
			}
			r.s.logger().WarnContext(ctx, "drift check skipped a pair it could not read", "link_id", d.Link.ID, "error", d.Err)
			continue
		}
		r.rep.Drift.Checked++
		if d.Drifted {
			ts = append(ts, r.driftTrigger(d))
		}
	}
	if err := r.send(ctx, ts); err != nil {
		r.fail(fmt.Errorf("sweep: drift: %w", err))
		return checkpoint
	}
	r.rep.Drift.Drifted += len(ts) - stale
	r.rep.Drift.Stale += stale
	r.rep.Drift.Wrapped = next == ""
	return next
}

// maxSkippedReported bounds the skipped pairs a report names.
const maxSkippedReported = 10

// driftTrigger is the trigger of a drifted pair. Its dedupe key names the
// link's version and both records' modification times, so the same drift
// is enqueued once; a resolution that writes nothing leaves the version
// alone, so a pair the engine finds converged is not enqueued again.
// polled reports whether o's records arrive only by a poll, with their
// event on the trigger (see activities.go): the lookback offers those
// again, a bare trigger could not be resolved.
func polled(o crmsync.ObjectType) bool {
	return o == crmsync.HSFormSubmission || o == crmsync.HSMarketingEmailEvent
}

// staleTrigger enqueues the source of a reservation whose creation never
// finished (its worker died, and the record has not changed since): the
// engine claims the stale reservation and completes the creation. Its
// dedupe key names the reservation's last update, so it is enqueued once
// per stale reservation.
func (r *run) staleTrigger(l crmsync.Link) crmsync.Trigger {
	src := l.HubSpot
	if src.IsZero() {
		src = l.Salesforce
	}
	return crmsync.Trigger{Record: src, Kind: crmsync.KindSweep, OccurredAt: r.started,
		DedupeKey: crmsync.DedupeKeyOf("sweep-stale", l.ID, strconv.FormatInt(l.Version, 10), timeKey(l.UpdatedAt))}
}

func (r *run) driftTrigger(d engine.Drift) crmsync.Trigger {
	l := d.Link
	return crmsync.Trigger{Record: d.Source, Kind: crmsync.KindSweep, OccurredAt: r.started,
		DedupeKey: crmsync.DedupeKeyOf("sweep-drift", l.ID, strconv.FormatInt(l.Version, 10),
			timeKey(d.HubSpotModified), timeKey(d.SalesforceModified))}
}
