package sweep

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// Activities without a webhook. HubSpot sends no webhook for a form
// submission or a marketing email event, so they are polled from a cursor
// per type (crmsync.ActivityFeed: HubSpot's form submissions API and
// marketing email events API) and each is enqueued with the event on its
// trigger (kind activity; the engine makes its Task and campaign member).
// The poll runs with the inclusion-list poll (Sweeper.Poll): at the start
// of every sweep, on the one-minute schedule in AWS (template.yaml,
// ShortPoll), every few seconds on the local stack, and at once
// when a contact property says a submission or an email event just
// happened (worker.Worker.Hints).
//
// HubSpot stamps an event with when it happened, and may record it a
// little later, so a poll can pass an event that is recorded behind its
// cursor. Each full sweep therefore offers the window of ActivityLookback
// before each cursor again (without moving the cursor): what was enqueued
// already is dropped by its dedupe key, what was recorded late is
// enqueued now — at most a sweep period late instead of lost.
//
// A type is polled only while it is on (activities.form_submissions, or a
// form mapped to a campaign; activities.marketing_emails). Its first poll
// starts the cursor at that moment: activities from before a toggle was
// turned on are not backfilled. Engagement objects (calls, emails,
// meetings, notes, tasks) have webhooks and are swept like records, from
// the moment their toggle is turned on.

// activityPage is how many events one poll call asks for.
const activityPage = 500

// ActivityLookback is the window before a poll cursor that each sweep
// offers again (see above).
const ActivityLookback = 15 * time.Minute

// Poll runs the short schedule's work: the inclusion list's new members
// and the webhook-less activities. It returns how many triggers it
// enqueued.
func (s *Sweeper) Poll(ctx context.Context) (int, error) {
	settings, err := engine.LoadSettings(ctx, s.Store)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	n, err := s.pollList(ctx, settings.InclusionListID)
	m, aerr := s.pollActivities(ctx, settings, 0)
	return n + m, errors.Join(err, aerr)
}

// pollActivities enqueues the form submissions and marketing email events
// that are on, since their cursors.
func (s *Sweeper) pollActivities(ctx context.Context, settings crmsync.Settings, lookback time.Duration) (int, error) {
	if s.Activities == nil {
		return 0, nil
	}
	a := settings.Activities
	feeds := []struct {
		o    crmsync.ObjectType
		on   bool
		poll func(context.Context, time.Time, int) ([]crmsync.ActivityEvent, error)
	}{
		{crmsync.HSFormSubmission, a.FormSubmissions || len(a.FormCampaigns) > 0, s.Activities.FormSubmissions},
		{crmsync.HSMarketingEmailEvent, a.MarketingEmails, s.Activities.EmailEvents},
	}
	n := 0
	var errs []error
	for _, f := range feeds {
		if !f.on {
			continue
		}
		k, err := s.pollFeed(ctx, f.o, f.poll, lookback)
		n += k
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: poll %s: %w", f.o, err))
		}
	}
	return n, errors.Join(errs...)
}

// pollFeed enqueues one type's events since its cursor, page by page. The
// cursor holds the time of the last event enqueued and the ids of every
// event enqueued at that time (usually one): a poll asks from that time
// and skips them. A page full of events of one time that moves nothing
// forward is asked again with twice the limit, so any number of events on
// one millisecond is read.
//
// With a lookback (a full sweep) the first read starts that much before
// the cursor and takes everything from there at once: the events before
// the cursor are offered again (not counted; their dedupe keys drop what
// was handled), the others are polled as usual — one read of the feed.
func (s *Sweeper) pollFeed(ctx context.Context, o crmsync.ObjectType, poll func(context.Context, time.Time, int) ([]crmsync.ActivityEvent, error), lookback time.Duration) (int, error) {
	cur, err := s.Store.GetCursor(ctx, crmsync.HubSpot, o)
	if errors.Is(err, crmsync.ErrNotFound) {
		cur = crmsync.Cursor{Side: crmsync.HubSpot, Object: o, Timestamp: s.now(), UpdatedAt: s.now()}
		return 0, s.Store.PutCursor(ctx, cur)
	}
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", err)
	}
	at := map[string]bool{} // ids enqueued at cur.Timestamp
	for id := range strings.FieldsSeq(cur.LastID) {
		at[id] = true
	}
	n, limit, from := 0, activityPage, cur.Timestamp
	if lookback > 0 {
		limit, from = 0, cur.Timestamp.Add(-lookback)
	}
	for {
		evs, err := poll(ctx, from, limit)
		if err != nil {
			return n, err
		}
		var again, ts []crmsync.Trigger
		for i := range evs {
			ev := evs[i]
			if ev.OccurredAt.Before(cur.Timestamp) {
				if lookback > 0 {
					again = append(again, activityTrigger(o, ev))
				}
				continue
			}
			if ev.OccurredAt.Equal(cur.Timestamp) && at[ev.ID] {
				continue
			}
			ts = append(ts, activityTrigger(o, ev))
			if ev.OccurredAt.After(cur.Timestamp) {
				cur.Timestamp, at = ev.OccurredAt, map[string]bool{}
			}
			at[ev.ID] = true
		}
		if len(again) > 0 {
			if err := s.Queue.Send(ctx, again); err != nil {
				return n, err
			}
		}
		if len(ts) > 0 {
			if err := s.Queue.Send(ctx, ts); err != nil {
				return n, err
			}
			n += len(ts)
			cur.LastID = strings.Join(slices.Sorted(maps.Keys(at)), " ")
			cur.UpdatedAt = s.now()
			if err := s.Store.PutCursor(ctx, cur); err != nil {
				return n, fmt.Errorf("cursor: %w", err)
			}
		}
		from = cur.Timestamp
		switch {
		case limit == 0 || len(evs) < limit:
			return n, nil
		case len(ts) == 0:
			limit *= 2 // a page of one millisecond, all enqueued: ask for more of it
		default:
			limit = activityPage
		}
	}
}

// activityTrigger is the trigger of a polled event: its dedupe key is the
// event's id, so the event is resolved once however often it is offered.
func activityTrigger(o crmsync.ObjectType, ev crmsync.ActivityEvent) crmsync.Trigger {
	return crmsync.Trigger{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: ev.ID},
		Kind: crmsync.KindActivity, OccurredAt: ev.OccurredAt, Event: &ev,
		DedupeKey: crmsync.DedupeKeyOf("activity", string(o), ev.ID)}
}

// activityHints are the HubSpot contact properties whose change says a
// form submission or a marketing email event just happened.
var activityHints = map[string]bool{
	"recent_conversion_date": true, "num_conversion_events": true,
	"hs_email_last_send_date": true, "hs_email_last_open_date": true, "hs_email_last_click_date": true,
}

// Hinted reports whether a trigger says a webhook-less activity just
// happened: a HubSpot contact's change of one of the activityHints.
func Hinted(t crmsync.Trigger) bool {
	if t.Record.Side != crmsync.HubSpot || t.Record.Object != crmsync.HSContact {
		return false
	}
	for _, p := range t.Properties {
		if activityHints[p] {
			return true
		}
	}
	return false
}

// PollIfHinted runs the short poll when one of ts is Hinted, so a form
// submission or an email event reaches Salesforce in seconds rather than
// at the next scheduled poll.
func (s *Sweeper) PollIfHinted(ctx context.Context, ts []crmsync.Trigger) (int, error) {
	for _, t := range ts {
		if Hinted(t) {
			return s.Poll(ctx)
		}
	}
	return 0, nil
}
