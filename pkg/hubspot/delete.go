package hubspot

import (
	"context"
	"errors"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Deleter = (*Client)(nil)

// Delete archives a record (crmsync.Deleter); one already gone is not an
// error. HubSpot keeps archived records restorable for 90 days.
func (c *Client) Delete(ctx context.Context, ref crmsync.RecordRef) error {
	err := c.ArchiveObject(ctx, ref.Object, ref.ID)
	if errors.Is(err, crmsync.ErrNotFound) {
		return nil
	}
	return err
}
