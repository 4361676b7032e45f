package crmsynctest

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Campaigns = (*CRM)(nil)

// campaign is a fake campaign and its members (Lead or Contact ids).
type campaign struct {
	crmsync.Campaign
	members map[string]string // who id → status
}

// AddCampaign creates a campaign and returns its id ("701…", as
// Salesforce's Campaign ids start).
func (c *CRM) AddCampaign(name string, active bool) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := fmt.Sprintf("701%015d", c.next)
	if c.campaigns == nil {
		c.campaigns = map[string]*campaign{}
	}
	c.campaigns[id] = &campaign{Campaign: crmsync.Campaign{ID: id, Name: name, Active: active}, members: map[string]string{}}
	return id
}

// Members returns the ids of the campaign's members, sorted.
func (c *CRM) Members(campaignID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	if cp := c.campaigns[campaignID]; cp != nil {
		for id := range cp.members {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Campaign implements crmsync.Campaigns.
func (c *CRM) Campaign(ctx context.Context, id string) (crmsync.Campaign, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("campaign", crmsync.RecordRef{Side: c.side, Object: "Campaign", ID: id}); err != nil {
		return crmsync.Campaign{}, err
	}
	cp := c.campaigns[id]
	if cp == nil {
		return crmsync.Campaign{}, fmt.Errorf("fake %s: campaign %s: %w", c.side, id, crmsync.ErrNotFound)
	}
	return cp.Campaign, nil
}

// AddCampaignMember implements crmsync.Campaigns: an existing member is
// (false, nil), as Salesforce's DUPLICATE_VALUE is to the real client.
func (c *CRM) AddCampaignMember(ctx context.Context, campaignID string, who crmsync.RecordRef, status string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("addmember", who); err != nil {
		return false, err
	}
	cp := c.campaigns[campaignID]
	if cp == nil {
		return false, fmt.Errorf("fake %s: add member to campaign %s: %w", c.side, campaignID, crmsync.ErrNotFound)
	}
	if _, ok := cp.members[who.ID]; ok {
		return false, nil
	}
	if status == "" {
		status = "Sent"
	}
	cp.members[who.ID] = status
	return true, nil
}
