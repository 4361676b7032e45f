package health

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// ResyncTrigger is the trigger of a manual resync of ref at now: what
// `crmsync resync`, the local stack's admin route and the health page's
// Resync buttons enqueue. Its dedupe key is unique per call (the time in
// nanoseconds is part of it), so a resync is never dropped as a repeat of
// an earlier one.
func ResyncTrigger(ref crmsync.RecordRef, now time.Time) crmsync.Trigger {
	return crmsync.Trigger{Record: ref, Kind: crmsync.KindManualResync, OccurredAt: now, DeliveryID: crmsync.DeliveryResync,
		DedupeKey: crmsync.DedupeKeyOf("resync", string(ref.Side), string(ref.Object), ref.ID,
			strconv.FormatInt(now.UnixNano(), 10))}
}

// ErrorLister pages through sync errors (crmsync.Store has it).
type ErrorLister interface {
	// ListSyncErrors pages through errors of one category ("" = all),
	// ordered by record key; an unknown category is crmsync.ErrInvalid.
	ListSyncErrors(ctx context.Context, category crmsync.Category, page crmsync.PageRequest) ([]crmsync.SyncError, string, error)
}

// ResyncErrorTriggers returns a manual-resync trigger for every record
// with a sync error in category ("" = every category), in record-key order.
// An unknown category is crmsync.ErrInvalid.
func ResyncErrorTriggers(ctx context.Context, store ErrorLister, category crmsync.Category, now time.Time) ([]crmsync.Trigger, error) {
	if category != "" && !category.Valid() {
		return nil, fmt.Errorf("resync errors: %w: unknown category %q", crmsync.ErrInvalid, category)
	}
	var out []crmsync.Trigger
	page := crmsync.PageRequest{Limit: 500}
	for {
		errs, next, err := store.ListSyncErrors(ctx, category, page)
		if err != nil {
			return nil, fmt.Errorf("resync errors: %w", err)
		}
		for _, e := range errs {
			out = append(out, errorResyncTrigger(e.Record, now))
		}
		if next == "" {
			return out, nil
		}
		page.Token = next
	}
}

func errorResyncTrigger(ref crmsync.RecordRef, now time.Time) crmsync.Trigger {
	t := ResyncTrigger(ref, now)
	t.DeliveryID = crmsync.DeliveryResyncErrors
	return t
}

// Sender enqueues triggers (crmsync.Queue has it).
type Sender interface {
	// Send enqueues triggers; when some fail the error is a
	// *crmsync.SendError listing which, and the others were enqueued.
	Send(ctx context.Context, triggers []crmsync.Trigger) error
}

// send enqueues ts and returns the records that were enqueued; on a
// partial failure it returns those and the error.
func send(ctx context.Context, q Sender, ts []crmsync.Trigger) ([]crmsync.RecordRef, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	err := q.Send(ctx, ts)
	var se *crmsync.SendError
	if err != nil && !errors.As(err, &se) {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	var done []crmsync.RecordRef
	for i, t := range ts {
		if se == nil || se.Failed[i] == nil {
			done = append(done, t.Record)
		}
	}
	if se != nil {
		return done, fmt.Errorf("enqueue: %w (enqueued %d of %d)", se, len(done), len(ts))
	}
	return done, nil
}
