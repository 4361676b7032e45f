package hubspot

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var (
	_ crmsync.CRM            = (*Client)(nil)
	_ crmsync.ListMembership = (*Client)(nil)
)

// ownerProperty holds a record's owner id.
const ownerProperty = "hubspot_owner_id"

// Side is crmsync.HubSpot.
func (c *Client) Side() crmsync.Side { return crmsync.HubSpot }

// Get reads the current record (crmsync.CRM). The owner's email is
// resolved through the owners API when the record has an owner.
func (c *Client) Get(ctx context.Context, ref crmsync.RecordRef, properties []string) (crmsync.Record, error) {
	prop := LastModifiedProperty(ref.Object)
	obj, err := c.GetObject(ctx, ref.Object, ref.ID, append(append([]string{}, properties...), prop, ownerProperty))
	if err != nil {
		return crmsync.Record{}, err
	}
	return c.record(ctx, ref.Object, obj)
}

// FindByEmail returns the contacts whose email is email, most recently
// modified first (crmsync.CRM). Other object types have no email: they are
// crmsync.ErrInvalid.
func (c *Client) FindByEmail(ctx context.Context, o crmsync.ObjectType, email string, properties []string) ([]crmsync.Record, error) {
	if o != crmsync.HSContact {
		return nil, fmt.Errorf("hubspot: find %s by email: %w: only contacts have an email", o, crmsync.ErrInvalid)
	}
	prop := LastModifiedProperty(o)
	page, err := c.Search(ctx, o, SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{{PropertyName: "email", Operator: "EQ", Value: email}}}},
		Sorts:        []Sort{{PropertyName: prop, Direction: "DESCENDING"}},
		Properties:   append(append([]string{}, properties...), prop, ownerProperty, "email"),
		Limit:        MaxSearchLimit,
	})
	if err != nil {
		return nil, err
	}
	out := make([]crmsync.Record, 0, len(page.Results))
	for i := range page.Results {
		r, err := c.record(ctx, o, &page.Results[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Create creates a record (crmsync.CRM).
func (c *Client) Create(ctx context.Context, o crmsync.ObjectType, properties map[string]string) (crmsync.Record, error) {
	obj, err := c.CreateObject(ctx, o, properties, nil)
	if err != nil {
		return crmsync.Record{}, err
	}
	return c.record(ctx, o, obj)
}

// Update writes properties to an existing record (crmsync.CRM).
func (c *Client) Update(ctx context.Context, ref crmsync.RecordRef, properties map[string]string) error {
	_, err := c.UpdateObject(ctx, ref.Object, ref.ID, properties)
	return err
}

func (c *Client) record(ctx context.Context, o crmsync.ObjectType, obj *Object) (crmsync.Record, error) {
	r := crmsync.Record{
		Ref:          crmsync.RecordRef{Side: crmsync.HubSpot, Object: o, ID: obj.ID},
		Properties:   obj.Properties,
		LastModified: modifiedAt(obj, LastModifiedProperty(o)),
		Archived:     obj.Archived,
	}
	if id := obj.Properties[ownerProperty]; id != "" {
		owner, err := c.Owner(ctx, id)
		switch {
		case err == nil:
			r.OwnerEmail = owner.Email
		case errors.Is(err, crmsync.ErrNotFound):
			// A deactivated owner: the record keeps no owner email.
		default:
			return crmsync.Record{}, err
		}
	}
	return r, nil
}
