package salesforce

import (
	"context"
	"errors"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Deleter = (*Client)(nil)

// Delete deletes a record (crmsync.Deleter) to the org's recycle bin; one
// already gone is not an error.
func (c *Client) Delete(ctx context.Context, ref crmsync.RecordRef) error {
	err := c.DeleteRecord(ctx, string(ref.Object), ref.ID)
	if errors.Is(err, crmsync.ErrNotFound) {
		return nil
	}
	return err
}
