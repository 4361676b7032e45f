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
// hubspot.Client.ScanModified). It does not list deletions: the client
// has no listing of archived records yet, so HubSpot deletes reach crmsync
// through the deletion and privacyDeletion webhooks only.
type HubSpotSource struct {
	Client HubSpotAPI
}

var _ Source = (*HubSpotSource)(nil)

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
