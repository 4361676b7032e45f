package salesforce

import (
	"context"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.ContactRoles = (*Client)(nil)

// OpportunityOfRole returns the OpportunityId of an OpportunityContactRole
// (crmsync.ContactRoles), with one SOQL query.
func (c *Client) OpportunityOfRole(ctx context.Context, roleID string) (string, error) {
	res, err := c.Query(ctx, "SELECT OpportunityId FROM OpportunityContactRole WHERE Id = "+QuoteSOQL(roleID))
	if err != nil {
		return "", fmt.Errorf("salesforce: contact role %s: %w", roleID, err)
	}
	if len(res.Records) == 0 {
		return "", fmt.Errorf("salesforce: contact role %s: %w", roleID, crmsync.ErrNotFound)
	}
	return res.Records[0].Text("OpportunityId"), nil
}

// OpportunityRoles returns an opportunity's IsClosed and IsWon and the
// contacts of its OpportunityContactRoles (crmsync.ContactRoles), with two
// SOQL queries.
func (c *Client) OpportunityRoles(ctx context.Context, opportunityID string) (crmsync.Roles, error) {
	var r crmsync.Roles
	opp, err := c.Query(ctx, "SELECT IsClosed, IsWon FROM Opportunity WHERE Id = "+QuoteSOQL(opportunityID))
	if err != nil {
		return r, fmt.Errorf("salesforce: opportunity %s: %w", opportunityID, err)
	}
	if len(opp.Records) == 0 {
		return r, fmt.Errorf("salesforce: opportunity %s: %w", opportunityID, crmsync.ErrNotFound)
	}
	r.Closed, r.Won = opp.Records[0].Text("IsClosed") == "true", opp.Records[0].Text("IsWon") == "true"
	err = c.QueryEach(ctx, "SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId = "+QuoteSOQL(opportunityID)+" ORDER BY Id",
		func(recs []Record) error {
			for _, rec := range recs {
				if id := rec.Text("ContactId"); id != "" {
					r.ContactIDs = append(r.ContactIDs, id)
				}
			}
			return nil
		})
	if err != nil {
		return r, fmt.Errorf("salesforce: contact roles of %s: %w", opportunityID, err)
	}
	return r, nil
}
