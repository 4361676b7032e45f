package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Campaigns = (*Client)(nil)

// campaignObject is the sObject type of campaigns (crmsync names no
// ObjectType for it: campaigns are read, never synced).
const campaignObject = "Campaign"

// Campaign reads a campaign's name and whether it is active
// (crmsync.Campaigns) with one SOQL query. A campaign that does not exist,
// was deleted or is not visible to the integration user is
// crmsync.ErrNotFound; a malformed id is crmsync.ErrInvalid.
//
// GET /services/data/vXX.X/query?q=SELECT Id, Name, IsActive FROM Campaign WHERE Id = '…'
func (c *Client) Campaign(ctx context.Context, id string) (crmsync.Campaign, error) {
	if !ValidID(id) {
		return crmsync.Campaign{}, fmt.Errorf("salesforce: campaign: %w: bad id %q", crmsync.ErrInvalid, id)
	}
	res, err := c.Query(ctx, "SELECT Id, Name, IsActive FROM "+campaignObject+" WHERE Id = "+QuoteSOQL(id))
	if err != nil {
		return crmsync.Campaign{}, err
	}
	if len(res.Records) == 0 {
		return crmsync.Campaign{}, fmt.Errorf("salesforce: campaign %s: %w", id, crmsync.ErrNotFound)
	}
	r := res.Records[0]
	return crmsync.Campaign{ID: r.ID, Name: r.Text("Name"), Active: r.Fields["IsActive"] == true}, nil
}

// MemberStatus is one of a campaign's member statuses (CampaignMemberStatus).
type MemberStatus struct {
	Label        string
	IsDefault    bool
	HasResponded bool
}

// MemberStatuses returns a campaign's member statuses in their sort order
// (a new campaign has "Sent", the default, and "Responded").
//
// GET /services/data/vXX.X/query?q=SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus WHERE CampaignId = '…'
func (c *Client) MemberStatuses(ctx context.Context, campaignID string) ([]MemberStatus, error) {
	if err := checkID("member statuses", campaignID); err != nil {
		return nil, err
	}
	var out []MemberStatus
	err := c.QueryEach(ctx, "SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus WHERE CampaignId = "+
		QuoteSOQL(campaignID)+" ORDER BY SortOrder", func(recs []Record) error {
		for _, r := range recs {
			out = append(out, MemberStatus{Label: r.Text("Label"), IsDefault: r.Fields["IsDefault"] == true,
				HasResponded: r.Fields["HasResponded"] == true})
		}
		return nil
	})
	return out, err
}

// AddCampaignMember makes the lead or contact who a member of the campaign
// with the member status (crmsync.Campaigns); "" leaves the status to the
// campaign's default. It is one create call, plus — for a named status,
// once per campaign and client, and again when the status is not among
// those read — a query of the campaign's member statuses: Salesforce gives
// a member whose status the campaign does not have the default status
// instead of refusing it, so the client refuses it first, with a
// *MemberStatusError. A lead or contact already in the campaign
// (DUPLICATE_VALUE) is added false with a nil error. Salesforce adds
// members to inactive campaigns; whether to is the caller's decision.
//
// POST /services/data/vXX.X/sobjects/CampaignMember/
func (c *Client) AddCampaignMember(ctx context.Context, campaignID string, who crmsync.RecordRef, status string) (bool, error) {
	field := map[crmsync.ObjectType]string{crmsync.SFLead: "LeadId", crmsync.SFContact: "ContactId"}[who.Object]
	switch {
	case !ValidID(campaignID):
		return false, fmt.Errorf("salesforce: add campaign member: %w: bad campaign id %q", crmsync.ErrInvalid, campaignID)
	case field == "" || who.Side != crmsync.Salesforce || !ValidID(who.ID):
		return false, fmt.Errorf("salesforce: add campaign member: %w: %s is not a Salesforce lead or contact", crmsync.ErrInvalid, who)
	}
	fields := map[string]any{"CampaignId": campaignID, field: who.ID}
	if status != "" {
		if err := c.checkMemberStatus(ctx, campaignID, status); err != nil {
			return false, err
		}
		fields["Status"] = status
	}
	_, err := c.CreateRecord(ctx, string(crmsync.SFCampaignMember), fields)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code() == CodeDuplicateValue {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// checkMemberStatus returns a *MemberStatusError unless the campaign has
// the member status, reading its statuses when they are not cached or do
// not have it (an admin may have added it since).
func (c *Client) checkMemberStatus(ctx context.Context, campaignID, status string) error {
	key := ID18(campaignID)
	c.mu.Lock()
	known := c.memberStatuses[key]
	c.mu.Unlock()
	if slices.Contains(known, status) {
		return nil
	}
	statuses, err := c.MemberStatuses(ctx, campaignID)
	if err != nil {
		return err
	}
	known = make([]string, len(statuses))
	for i, s := range statuses {
		known[i] = s.Label
	}
	c.mu.Lock()
	if c.memberStatuses == nil {
		c.memberStatuses = map[string][]string{}
	}
	c.memberStatuses[key] = known
	c.mu.Unlock()
	if !slices.Contains(known, status) {
		return &MemberStatusError{CampaignID: campaignID, Status: status, Known: known}
	}
	return nil
}

// CodeUnknownMemberStatus is the code of a *MemberStatusError. It is
// crmsync's, not Salesforce's: Salesforce answers no error for such a
// status (it assigns the campaign's default).
const CodeUnknownMemberStatus = "UNKNOWN_CAMPAIGN_MEMBER_STATUS"

// MemberStatusError refuses a campaign member status the campaign does
// not have. It is terminal, in category Property values, and matches
// crmsync.ErrInvalid.
type MemberStatusError struct {
	CampaignID string
	Status     string
	// Known are the campaign's member statuses.
	Known []string
}

func (e *MemberStatusError) Error() string {
	return fmt.Sprintf("salesforce: campaign %s has no member status %q (it has %s)", e.CampaignID, e.Status, strings.Join(e.Known, ", "))
}

// Code is CodeUnknownMemberStatus.
func (e *MemberStatusError) Code() string { return CodeUnknownMemberStatus }

// Category is crmsync.CategoryPropertyValues.
func (e *MemberStatusError) Category() crmsync.Category { return crmsync.CategoryPropertyValues }

// Hint says what a person can do about it.
func (e *MemberStatusError) Hint() string { return HintOf(CodeUnknownMemberStatus) }

// Transient is false: the status stays unknown until someone adds it.
func (e *MemberStatusError) Transient() bool { return false }

// Is matches crmsync.ErrInvalid.
func (e *MemberStatusError) Is(target error) bool { return target == crmsync.ErrInvalid }

var _ crmsync.VendorError = (*MemberStatusError)(nil)
