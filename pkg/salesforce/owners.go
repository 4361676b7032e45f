package salesforce

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Owners = (*Client)(nil)

// ownerCache keeps email → user id lookups for the client's lifetime (a
// Lambda container's): owners change rarely and each lookup is an API call.
type ownerCache struct {
	mu     sync.Mutex
	ids    map[string]string
	misses map[string]time.Time // email → remembered until
}

// ownerMissTTL is how long "no active user has this email" is remembered,
// so a bulk sync does not query once per record.
const ownerMissTTL = 10 * time.Minute

// OwnerID returns the id of the active user with that email (crmsync.Owners),
// with one SOQL query per email per client.
func (c *Client) OwnerID(ctx context.Context, email string) (string, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	c.owners.mu.Lock()
	id, ok := c.owners.ids[key]
	missUntil, missed := c.owners.misses[key]
	c.owners.mu.Unlock()
	if ok {
		return id, nil
	}
	if missed && c.now().Before(missUntil) {
		return "", fmt.Errorf("salesforce: user %s: %w", key, crmsync.ErrNotFound)
	}
	res, err := c.Query(ctx, "SELECT Id FROM User WHERE Email = "+QuoteSOQL(key)+" AND IsActive = true LIMIT 1")
	if err != nil {
		return "", err
	}
	if len(res.Records) == 0 {
		c.owners.mu.Lock()
		if c.owners.misses == nil {
			c.owners.misses = map[string]time.Time{}
		}
		c.owners.misses[key] = c.now().Add(ownerMissTTL)
		c.owners.mu.Unlock()
		return "", fmt.Errorf("salesforce: user %s: %w", key, crmsync.ErrNotFound)
	}
	id = res.Records[0].ID
	c.owners.mu.Lock()
	if c.owners.ids == nil {
		c.owners.ids = map[string]string{}
	}
	c.owners.ids[key] = id
	c.owners.mu.Unlock()
	return id, nil
}

// OwnerProperty is OwnerId on every owned object (crmsync.Owners).
func (c *Client) OwnerProperty(o crmsync.ObjectType) string { return "OwnerId" }

// OrgAPIUsage returns the org's API calls in the last 24 hours and its
// allocation as the last response's Sforce-Limit-Info said (ok false
// before any call) — the engine's budget uses it when no allocation is set.
func (c *Client) OrgAPIUsage() (used, max int64, ok bool) {
	li, _ := c.LimitInfo()
	return li.Used, li.Max, li.Max > 0
}
