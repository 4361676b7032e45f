package sweep

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// HubSpotAPI is what HubSpotSource needs of *hubspot.Client.
type HubSpotAPI interface {
	// ScanModified hands fn every object of type o modified at or after
	// from, in (last modified, id) order, past the search cap.
	ScanModified(ctx context.Context, o crmsync.ObjectType, from hubspot.ScanCursor, properties []string, fn func(hubspot.Object) error) (hubspot.ScanCursor, error)
}

var _ HubSpotAPI = (*hubspot.Client)(nil)

// HubSpotSource lists HubSpot changes with the client's ScanModified, a
// CRM search on the last-modified property that re-slices at each
// timestamp to get past HubSpot's 10 000-result cap (see
// hubspot.Client.ScanModified). Deletions come from the list of archived
// records when the client offers it (HubSpotArchive): HubSpot keeps
// archived records 90 days and cannot filter them by archive time, so each
// sweep pages through all of them (100 per call) and keeps those archived
// in the window. GDPR (privacy) deletions are not archived: they reach
// crmsync through the privacyDeletion webhook only.
type HubSpotSource struct {
	Client HubSpotAPI
	// Now is the clock the 90-day window is measured with (time.Now when nil).
	Now func() time.Time
}

// HubSpotArchive is the optional ability of a HubSpotAPI to list archived
// records (*hubspot.Client has it).
type HubSpotArchive interface {
	ListObjects(ctx context.Context, o crmsync.ObjectType, archived bool, after string, limit int, properties []string) (*hubspot.ListPage, error)
}

// HubSpotArchiveWindow is how long HubSpot keeps archived records.
const HubSpotArchiveWindow = 90 * 24 * time.Hour

var (
	_ Source         = (*HubSpotSource)(nil)
	_ Deletions      = (*HubSpotSource)(nil)
	_ HubSpotArchive = (*hubspot.Client)(nil)
)

// Deleted implements Deletions with the archived-records list.
func (s *HubSpotSource) Deleted(ctx context.Context, o crmsync.ObjectType, from, until time.Time, fn func(Change) error) (time.Time, error) {
	a, ok := s.Client.(HubSpotArchive)
	if !ok {
		return from, nil
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	start := from
	if oldest := now().Add(-HubSpotArchiveWindow); start.Before(oldest) {
		start = oldest
	}
	after := ""
	for {
		page, err := a.ListObjects(ctx, o, true, after, hubspot.MaxListLimit, nil)
		if err != nil {
			return start, fmt.Errorf("hubspot archived %s: %w", o, err)
		}
		for _, obj := range page.Objects {
			at := obj.ArchivedAt.UTC()
			if at.After(from) && !at.After(until) {
				if err := fn(Change{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: obj.ID}, Modified: at}); err != nil {
					return start, err
				}
			}
		}
		if after = page.Next; after == "" {
			return start, nil
		}
	}
}

// Changes implements Source.
func (s *HubSpotSource) Changes(ctx context.Context, o crmsync.ObjectType, from crmsync.Cursor, fn func(Change) error) error {
	prop := hubspot.LastModifiedProperty(o)
	_, err := s.Client.ScanModified(ctx, o, hubspot.ScanCursor{Modified: from.Timestamp, ID: from.LastID}, nil,
		func(obj hubspot.Object) error {
			return fn(Change{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: obj.ID}, Modified: hubSpotModified(obj, prop)})
		})
	if err != nil {
		return fmt.Errorf("hubspot changes %s: %w", o, err)
	}
	return nil
}

// hubSpotModified reads the last-modified property (ISO 8601 or epoch
// milliseconds), falling back to updatedAt, as ScanModified orders by it.
func hubSpotModified(obj hubspot.Object, prop string) time.Time {
	if v := obj.Properties[prop]; v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC()
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.UnixMilli(n).UTC()
		}
	}
	return obj.UpdatedAt.UTC()
}
