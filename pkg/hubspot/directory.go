package hubspot

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// ListMembership is one list a record belongs to.
type ListMembership struct {
	ListID              string    `json:"listId"`
	ListVersion         int       `json:"listVersion"`
	FirstAddedTimestamp time.Time `json:"firstAddedTimestamp"`
	LastAddedTimestamp  time.Time `json:"lastAddedTimestamp"`
}

// RecordLists returns the lists the record is a member of.
//
// GET /crm/v3/lists/records/{objectTypeId}/{recordId}/memberships
func (c *Client) RecordLists(ctx context.Context, ref crmsync.RecordRef) ([]ListMembership, error) {
	op := "list memberships of " + ref.Key()
	typeID := ObjectTypeID(ref.Object)
	if typeID == "" || ref.Side != crmsync.HubSpot {
		return nil, fmt.Errorf("hubspot: %s: %w: not a HubSpot object", op, crmsync.ErrInvalid)
	}
	var out []ListMembership
	after := ""
	for {
		q := url.Values{}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Results []ListMembership `json:"results"`
			Paging  *wirePaging      `json:"paging"`
		}
		if err := c.do(ctx, call{op: op, method: "GET", path: "crm/v3/lists/records/" + typeID + "/" + url.PathEscape(ref.ID) + "/memberships",
			query: q, out: &page, idempotent: true}); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		if after = page.Paging.after(); after == "" {
			return out, nil
		}
	}
}

// InList reports whether the record is a member of the list
// (crmsync.ListMembership).
func (c *Client) InList(ctx context.Context, listID string, ref crmsync.RecordRef) (bool, error) {
	lists, err := c.RecordLists(ctx, ref)
	if err != nil {
		return false, err
	}
	for _, l := range lists {
		if l.ListID == listID {
			return true, nil
		}
	}
	return false, nil
}

// ListMembers pages through the record ids of a list.
//
// GET /crm/v3/lists/{listId}/memberships
func (c *Client) ListMembers(ctx context.Context, listID, after string, limit int) (ids []string, next string, err error) {
	ms, next, err := c.memberships(ctx, "members of list "+listID, listID, "", after, limit)
	for _, m := range ms {
		ids = append(ids, m.RecordID)
	}
	return ids, next, err
}

// Membership is one record's membership of a list.
type Membership struct {
	RecordID string
	// At is when the record was added (membershipTimestamp).
	At time.Time
}

// ListJoins pages through a list's memberships in the order they were
// added, oldest first. next is "" on the last page (HubSpot returns
// paging.next.after only while more results follow).
//
// GET /crm/v3/lists/{listId}/memberships/join-order
func (c *Client) ListJoins(ctx context.Context, listID, after string, limit int) (ms []Membership, next string, err error) {
	return c.memberships(ctx, "memberships of list "+listID+" in join order", listID, "/join-order", after, limit)
}

// memberships reads one page of a list's memberships endpoint (suffix ""
// or "/join-order").
func (c *Client) memberships(ctx context.Context, op, listID, suffix, after string, limit int) ([]Membership, string, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", itoa(limit))
	}
	var page struct {
		Results []struct {
			RecordID            flexString `json:"recordId"`
			MembershipTimestamp time.Time  `json:"membershipTimestamp"`
		} `json:"results"`
		Paging *wirePaging `json:"paging"`
	}
	if err := c.do(ctx, call{op: op, method: "GET", path: "crm/v3/lists/" + url.PathEscape(listID) + "/memberships" + suffix,
		query: q, out: &page, idempotent: true}); err != nil {
		return nil, "", err
	}
	ms := make([]Membership, 0, len(page.Results))
	for _, r := range page.Results {
		ms = append(ms, Membership{RecordID: string(r.RecordID), At: r.MembershipTimestamp})
	}
	return ms, page.Paging.after(), nil
}

// Owner is a HubSpot user who can own records.
type Owner struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	UserID    int64     `json:"userId"`
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Owners returns every owner (following paging), or those with email
// when email is not "".
//
// GET /crm/v3/owners
func (c *Client) Owners(ctx context.Context, email string) ([]Owner, error) {
	var out []Owner
	after := ""
	for {
		q := url.Values{"limit": {"500"}}
		if email != "" {
			q.Set("email", email)
		}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Results []Owner     `json:"results"`
			Paging  *wirePaging `json:"paging"`
		}
		if err := c.do(ctx, call{op: "list owners", method: "GET", path: "crm/v3/owners", query: q, out: &page, idempotent: true}); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		if after = page.Paging.after(); after == "" {
			break
		}
	}
	c.mu.Lock()
	for _, o := range out {
		c.owners[o.ID] = o
	}
	c.mu.Unlock()
	return out, nil
}

// Owner returns one owner by id (cached for the client's life).
//
// GET /crm/v3/owners/{ownerId}
func (c *Client) Owner(ctx context.Context, id string) (Owner, error) {
	c.mu.Lock()
	o, ok := c.owners[id]
	c.mu.Unlock()
	if ok {
		return o, nil
	}
	if err := c.do(ctx, call{op: "get owner " + id, method: "GET", path: "crm/v3/owners/" + url.PathEscape(id), out: &o, idempotent: true}); err != nil {
		return Owner{}, err
	}
	c.mu.Lock()
	c.owners[id] = o
	c.mu.Unlock()
	return o, nil
}

// OwnerByEmail returns the owner with that email (case-insensitive), or
// an error wrapping crmsync.ErrNotFound.
func (c *Client) OwnerByEmail(ctx context.Context, email string) (Owner, error) {
	owners, err := c.Owners(ctx, email)
	if err != nil {
		return Owner{}, err
	}
	for _, o := range owners {
		if strings.EqualFold(o.Email, email) {
			return o, nil
		}
	}
	return Owner{}, fmt.Errorf("hubspot: owner %s: %w", email, crmsync.ErrNotFound)
}

// Property describes one property of an object type.
type Property struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	GroupName            string           `json:"groupName"`
	Options              []PropertyOption `json:"options"`
	Calculated           bool             `json:"calculated"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	Hidden               bool             `json:"hidden"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
		Archivable    bool `json:"archivable"`
	} `json:"modificationMetadata"`
}

// ReadOnly reports whether values of the property cannot be written.
func (p Property) ReadOnly() bool { return p.ModificationMetadata.ReadOnlyValue || p.Calculated }

// PropertyOption is one allowed value of an enumeration property.
type PropertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// Properties returns the properties of an object type.
//
// GET /crm/v3/properties/{objectType}
func (c *Client) Properties(ctx context.Context, o crmsync.ObjectType) ([]Property, error) {
	op := "properties of " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Results []Property `json:"results"`
	}
	if err := c.do(ctx, call{op: op, method: "GET", path: "crm/v3/properties/" + p, out: &resp, idempotent: true}); err != nil {
		return nil, err
	}
	return resp.Results, nil
}
