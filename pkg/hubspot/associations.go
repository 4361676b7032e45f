package hubspot

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Association is one associated object and the association's types.
type Association struct {
	ToID  string
	Types []AssociationLabel
}

// AssociationLabel is one type of an association as v4 reports it.
type AssociationLabel struct {
	Category string `json:"category"`
	TypeID   int    `json:"typeId"`
	Label    string `json:"label"`
}

type wireAssociationTo struct {
	ToObjectID flexString         `json:"toObjectId"`
	Types      []AssociationLabel `json:"associationTypes"`
}

type wirePaging struct {
	Next *struct {
		After string `json:"after"`
	} `json:"next"`
}

func (p *wirePaging) after() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}

// BatchReadAssociations returns, for each id of type from, its
// associations to type to, following each id's paging. Ids with no
// associations are absent from the map.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read
// GET  /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType} (further pages)
func (c *Client) BatchReadAssociations(ctx context.Context, from, to crmsync.ObjectType, ids []string) (map[string][]Association, error) {
	op := "batch read associations " + string(from) + " to " + string(to)
	fp, err := objectPath(op, from)
	if err != nil {
		return nil, err
	}
	tp, err := objectPath(op, to)
	if err != nil {
		return nil, err
	}
	out := map[string][]Association{}
	for lo := 0; lo < len(ids); lo += MaxBatch {
		hi := min(lo+MaxBatch, len(ids))
		var resp struct {
			Results []struct {
				From struct {
					ID flexString `json:"id"`
				} `json:"from"`
				To     []wireAssociationTo `json:"to"`
				Paging *wirePaging         `json:"paging"`
			} `json:"results"`
			Errors []wireError `json:"errors"`
		}
		if err := c.do(ctx, call{op: op, method: "POST", path: "crm/v4/associations/" + fp + "/" + tp + "/batch/read",
			body: inputsOf(idsOnly(ids[lo:hi])), out: &resp, idempotent: true}); err != nil {
			return nil, err
		}
		for _, r := range resp.Results {
			id := string(r.From.ID)
			out[id] = append(out[id], associations(r.To)...)
			for after := r.Paging.after(); after != ""; {
				var page struct {
					Results []wireAssociationTo `json:"results"`
					Paging  *wirePaging         `json:"paging"`
				}
				if err := c.do(ctx, call{op: op, method: "GET", path: "crm/v4/objects/" + fp + "/" + url.PathEscape(id) + "/associations/" + tp,
					query: url.Values{"after": {after}, "limit": {"500"}}, out: &page, idempotent: true}); err != nil {
					return nil, err
				}
				out[id] = append(out[id], associations(page.Results)...)
				after = page.Paging.after()
			}
		}
		// "No associations found" errors are not failures; others are.
		for _, w := range resp.Errors {
			e := w.toAPIError(op, 0)
			if e.VendorCategory != "OBJECT_NOT_FOUND" && e.SubCategory != "crm.associations.NO_ASSOCIATIONS_FOUND" {
				return nil, e
			}
		}
	}
	return out, nil
}

func associations(ws []wireAssociationTo) []Association {
	out := make([]Association, 0, len(ws))
	for _, w := range ws {
		out = append(out, Association{ToID: string(w.ToObjectID), Types: w.Types})
	}
	return out
}

// AssociationPair names two objects to associate or dissociate.
type AssociationPair struct {
	FromID string
	ToID   string
	// Types are the association types to create (CreateAssociations only).
	Types []AssociationType
}

// CreateAssociations creates labelled associations, 100 per request. The
// error joins every *APIError HubSpot reported (207) or the request's.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create
func (c *Client) CreateAssociations(ctx context.Context, from, to crmsync.ObjectType, pairs []AssociationPair) error {
	op := "create associations " + string(from) + " to " + string(to)
	type input struct {
		From  AssociationTarget `json:"from"`
		To    AssociationTarget `json:"to"`
		Types []AssociationType `json:"types"`
	}
	return c.associationBatch(ctx, op, from, to, "batch/create", len(pairs), func(lo, hi int) any {
		in := make([]input, 0, hi-lo)
		for _, p := range pairs[lo:hi] {
			in = append(in, input{From: AssociationTarget{p.FromID}, To: AssociationTarget{p.ToID}, Types: p.Types})
		}
		return inputsOf(in)
	})
}

// CreateDefaultAssociations creates HubSpot's default (unlabelled)
// association for each pair.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default
func (c *Client) CreateDefaultAssociations(ctx context.Context, from, to crmsync.ObjectType, pairs []AssociationPair) error {
	op := "create default associations " + string(from) + " to " + string(to)
	type input struct {
		From AssociationTarget `json:"from"`
		To   AssociationTarget `json:"to"`
	}
	return c.associationBatch(ctx, op, from, to, "batch/associate/default", len(pairs), func(lo, hi int) any {
		in := make([]input, 0, hi-lo)
		for _, p := range pairs[lo:hi] {
			in = append(in, input{From: AssociationTarget{p.FromID}, To: AssociationTarget{p.ToID}})
		}
		return inputsOf(in)
	})
}

// DeleteAssociations removes every association between each pair.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive
func (c *Client) DeleteAssociations(ctx context.Context, from, to crmsync.ObjectType, pairs []AssociationPair) error {
	op := "delete associations " + string(from) + " to " + string(to)
	type input struct {
		From AssociationTarget   `json:"from"`
		To   []AssociationTarget `json:"to"`
	}
	return c.associationBatch(ctx, op, from, to, "batch/archive", len(pairs), func(lo, hi int) any {
		in := make([]input, 0, hi-lo)
		for _, p := range pairs[lo:hi] {
			in = append(in, input{From: AssociationTarget{p.FromID}, To: []AssociationTarget{{p.ToID}}})
		}
		return inputsOf(in)
	})
}

func (c *Client) associationBatch(ctx context.Context, op string, from, to crmsync.ObjectType, action string, n int, body func(lo, hi int) any) error {
	fp, err := objectPath(op, from)
	if err != nil {
		return err
	}
	tp, err := objectPath(op, to)
	if err != nil {
		return err
	}
	var errs []error
	for lo := 0; lo < n; lo += MaxBatch {
		hi := min(lo+MaxBatch, n)
		var resp batchResponse
		if err := c.do(ctx, call{op: op, method: "POST", path: "crm/v4/associations/" + fp + "/" + tp + "/" + action,
			body: body(lo, hi), out: &resp, idempotent: true}); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, w := range resp.Errors {
			errs = append(errs, w.toAPIError(op, 0))
		}
	}
	return errors.Join(errs...)
}

// itoa is strconv.Itoa, kept short for query building.
func itoa(n int) string { return strconv.Itoa(n) }
