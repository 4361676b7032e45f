package hubspot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Owners = (*Client)(nil)

// ownerMissTTL is how long "no owner has this email" is remembered: the
// engine asks for every record whose owner has no HubSpot user, and a new
// user shows up after at most this long.
const ownerMissTTL = 10 * time.Minute

// OwnerID returns the id of the owner with that email (crmsync.Owners).
// Owners already seen are answered from the client's cache, and a miss is
// remembered for ownerMissTTL, so a bulk sync does not ask once per record.
func (c *Client) OwnerID(ctx context.Context, email string) (string, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	c.mu.Lock()
	for _, o := range c.owners {
		if strings.EqualFold(o.Email, key) && !o.Archived {
			c.mu.Unlock()
			return o.ID, nil
		}
	}
	missUntil, missed := c.ownerMisses[key]
	c.mu.Unlock()
	if missed && c.now().Before(missUntil) {
		return "", fmt.Errorf("hubspot: owner %s: %w", key, crmsync.ErrNotFound)
	}
	o, err := c.OwnerByEmail(ctx, key)
	if errors.Is(err, crmsync.ErrNotFound) {
		c.mu.Lock()
		c.ownerMisses[key] = c.now().Add(ownerMissTTL)
		c.mu.Unlock()
	}
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// OwnerProperty is hubspot_owner_id on every CRM object (crmsync.Owners).
func (c *Client) OwnerProperty(o crmsync.ObjectType) string { return "hubspot_owner_id" }
