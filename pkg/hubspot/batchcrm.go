package hubspot

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.BatchCRM = (*Client)(nil)

// GetMany reads records by id with batch reads of 100 (crmsync.BatchCRM);
// ids HubSpot does not find are left out.
func (c *Client) GetMany(ctx context.Context, o crmsync.ObjectType, ids []string, properties []string) (map[string]crmsync.Record, error) {
	props := append(append([]string{}, properties...), LastModifiedProperty(o), ownerProperty)
	results, err := c.BatchRead(ctx, o, ids, "", props)
	if err != nil && len(results) != len(ids) {
		return nil, err
	}
	// Otherwise every input carries its own result; not-found ones are
	// left out, any other failure fails the read.
	out := make(map[string]crmsync.Record, len(ids))
	for i, r := range results {
		if r.Err != nil {
			if errors.Is(r.Err, crmsync.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("hubspot: read %s %s: %w", o, ids[i], r.Err)
		}
		rec, err := c.record(ctx, o, r.Object)
		if err != nil {
			return nil, err
		}
		out[rec.Ref.ID] = rec
	}
	return out, nil
}

// UpdateMany writes updates with batch updates of 100
// (crmsync.BatchCRM); each input gets its own result.
func (c *Client) UpdateMany(ctx context.Context, o crmsync.ObjectType, updates []crmsync.Update) ([]error, error) {
	in := make([]UpdateInput, len(updates))
	for i, u := range updates {
		in[i] = UpdateInput{ID: u.ID, Properties: u.Properties}
	}
	results, err := c.BatchUpdate(ctx, o, in)
	if err != nil && len(results) != len(updates) {
		return nil, err
	}
	errs := make([]error, len(updates))
	for i := range updates {
		if i < len(results) {
			errs[i] = results[i].Err
		} else {
			errs[i] = fmt.Errorf("hubspot: update %s %s: no result", o, updates[i].ID)
		}
	}
	return errs, nil
}
