package hubspot

import (
	"context"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Owners = (*Client)(nil)

// OwnerID returns the id of the owner with that email (crmsync.Owners).
func (c *Client) OwnerID(ctx context.Context, email string) (string, error) {
	o, err := c.OwnerByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// OwnerProperty is hubspot_owner_id on every CRM object (crmsync.Owners).
func (c *Client) OwnerProperty(o crmsync.ObjectType) string { return "hubspot_owner_id" }
