package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// The inclusion-list trigger. HubSpot sends no webhook when a record is
// added to a list (list-membership webhooks exist only for workflow
// actions), so the sweep polls the inclusion list's memberships in join
// order (GET /crm/v3/lists/{listId}/memberships/join-order), from a
// cursor: every contact added since the last poll — new or existing — is
// enqueued (kind list_membership) and syncs if eligible. Leaving the list
// needs no trigger: each resolution checks membership, so HubSpot →
// Salesforce updates stop. Sweeper.Poll is cheap (one call
// when nobody joined) and runs at the start of every sweep; the local stack
// runs it every few seconds, and in AWS a one-minute schedule runs it
// (template.yaml, ShortPoll), so a contact added to the list
// syncs within a minute instead of a sweep period.

// ListJoins lists a HubSpot list's memberships in join order
// (*hubspot.Client).
type ListJoins interface {
	ListJoins(ctx context.Context, listID, after string, limit int) ([]hubspot.Membership, string, error)
}

var _ ListJoins = (*hubspot.Client)(nil)

// listPage is the page size of a membership poll (HubSpot's maximum).
const listPage = 250

// pollList enqueues the contacts added to list listID ("" = none) since
// the last poll.
func (s *Sweeper) pollList(ctx context.Context, listID string) (int, error) {
	if s.Lists == nil || listID == "" {
		return 0, nil
	}
	cur, err := s.Store.GetCursor(ctx, crmsync.HubSpot, crmsync.HSListMembership)
	if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
		return 0, fmt.Errorf("sweep: inclusion list cursor: %w", err)
	}
	// The cursor holds "listID after-token last-record-id": the page to
	// read again (HubSpot gives no token past the last page) and the
	// last join enqueued, with its time.
	after, lastRec, same := "", "", false
	if parts := strings.Split(cur.LastID, " "); len(parts) == 3 && parts[0] == listID {
		after, lastRec, same = parts[1], parts[2], true
	}
	n := 0
	for {
		ms, next, err := s.Lists.ListJoins(ctx, listID, after, listPage)
		if err != nil {
			return n, fmt.Errorf("sweep: inclusion list %s: %w", listID, err)
		}
		ts := make([]crmsync.Trigger, 0, len(ms))
		for _, m := range ms {
			if same && (m.At.Before(cur.Timestamp) || m.At.Equal(cur.Timestamp) && m.RecordID == lastRec) {
				continue // enqueued by an earlier poll
			}
			ts = append(ts, crmsync.Trigger{Record: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: m.RecordID},
				Kind: crmsync.KindListMembership, OccurredAt: m.At,
				DedupeKey: crmsync.DedupeKeyOf("list-join", listID, m.RecordID, m.At.UTC().Format(time.RFC3339Nano))})
			cur.Timestamp, lastRec, same = m.At, m.RecordID, true
		}
		if len(ts) > 0 {
			if err := s.Queue.Send(ctx, ts); err != nil {
				return n, fmt.Errorf("sweep: inclusion list %s: %w", listID, err)
			}
			n += len(ts)
		}
		if next != "" {
			after = next
		}
		cur = crmsync.Cursor{Side: crmsync.HubSpot, Object: crmsync.HSListMembership, Timestamp: cur.Timestamp,
			LastID: listID + " " + after + " " + lastRec, UpdatedAt: s.now()}
		if err := s.Store.PutCursor(ctx, cur); err != nil {
			return n, fmt.Errorf("sweep: inclusion list cursor: %w", err)
		}
		if next == "" {
			return n, nil
		}
	}
}
