package hubspot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Search limits HubSpot enforces.
const (
	// MaxSearchLimit is the largest page of a search.
	MaxSearchLimit = 200
	// SearchResultCap is how deep "after" paging reaches: HubSpot answers
	// 400 for pages beyond the first 10 000 results of one query.
	SearchResultCap = 10000
)

// Filter is one search condition (operators EQ, NEQ, LT, LTE, GT, GTE,
// BETWEEN, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN,
// NOT_CONTAINS_TOKEN).
type Filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	HighValue    string   `json:"highValue,omitempty"`
	Values       []string `json:"values,omitempty"`
}

// FilterGroup ANDs its filters; a search ORs its groups.
type FilterGroup struct {
	Filters []Filter `json:"filters"`
}

// Sort orders search results (HubSpot applies one sort).
type Sort struct {
	PropertyName string `json:"propertyName"`
	// Direction is ASCENDING or DESCENDING.
	Direction string `json:"direction"`
}

// SearchRequest is the body of a CRM search.
type SearchRequest struct {
	FilterGroups []FilterGroup `json:"filterGroups"`
	Sorts        []Sort        `json:"sorts,omitempty"`
	Properties   []string      `json:"properties,omitempty"`
	// Limit is the page size, 1..200 (0 means 200 here).
	Limit int `json:"limit"`
	// After is the paging cursor from the previous page ("" for the first).
	After string `json:"after,omitempty"`
}

// SearchPage is one page of search results. Next is "" on the last page.
type SearchPage struct {
	Total   int
	Results []Object
	Next    string
}

type wireSearchPage struct {
	Total   int          `json:"total"`
	Results []wireObject `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// Search runs one page of a CRM search. It is held to the search limit
// (5 per second by default) and never asks past the 10 000-result cap.
//
// POST /crm/v3/objects/{objectType}/search
func (c *Client) Search(ctx context.Context, o crmsync.ObjectType, r SearchRequest) (*SearchPage, error) {
	op := "search " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	if r.Limit <= 0 {
		r.Limit = MaxSearchLimit
	}
	if r.Limit > MaxSearchLimit {
		return nil, fmt.Errorf("hubspot: %s: %w: limit %d above %d", op, crmsync.ErrInvalid, r.Limit, MaxSearchLimit)
	}
	if r.After != "" {
		if n, err := strconv.Atoi(r.After); err == nil && n+r.Limit > SearchResultCap {
			return nil, fmt.Errorf("hubspot: %s: %w: after %d is past the %d-result cap", op, crmsync.ErrInvalid, n, SearchResultCap)
		}
	}
	if r.FilterGroups == nil {
		r.FilterGroups = []FilterGroup{}
	}
	var w wireSearchPage
	if err := c.do(ctx, call{op: op, method: "POST", path: "crm/v3/objects/" + p + "/search", body: r, out: &w,
		search: true, idempotent: true}); err != nil {
		return nil, err
	}
	page := &SearchPage{Total: w.Total, Results: make([]Object, len(w.Results))}
	for i := range w.Results {
		page.Results[i] = *w.Results[i].object()
	}
	if w.Paging != nil && w.Paging.Next != nil {
		page.Next = w.Paging.Next.After
	}
	return page, nil
}

// LastModifiedProperty is the property holding an object's last change:
// "lastmodifieddate" for contacts, "hs_lastmodifieddate" for the others.
func LastModifiedProperty(o crmsync.ObjectType) string {
	if o == crmsync.HSContact {
		return "lastmodifieddate"
	}
	return "hs_lastmodifieddate"
}

// ScanCursor is a position in the (last modified, id) order of a scan:
// everything at or before it has been handed to the callback.
type ScanCursor struct {
	Modified time.Time
	// ID is the last id read among the objects modified at Modified; ""
	// means none of them yet.
	ID string
}

// ScanModified hands fn every object of type o modified at or after
// from (in (last modified, id) order, ties within a page by id), with the
// given properties, and returns the cursor after the last one fn accepted.
// An error from fn stops the scan (the cursor is the one before that
// object).
//
// It reaches past HubSpot's 10 000-result search cap without paging past
// it: one query finds the next modification time T after the cursor
// (sorted by the last-modified property); every object with a time below
// T on that page is complete and is handed over; the objects at T are
// then read in hs_object_id order with keyset paging (hs_object_id > last
// id, so no page is ever past the cap); then the scan continues strictly
// after T. Time and id only move forward, so the scan ends, and each
// object present throughout is read exactly once even when 30 000 share a
// timestamp. Objects changed during the scan move to a later time and are
// read again there, which is what a sync wants.
func (c *Client) ScanModified(ctx context.Context, o crmsync.ObjectType, from ScanCursor, properties []string, fn func(Object) error) (ScanCursor, error) {
	prop := LastModifiedProperty(o)
	props := append(append([]string{}, properties...), prop)
	cur := from
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

	// drain hands over every object modified exactly at cur.Modified with
	// an id above cur.ID.
	drain := func() error {
		for {
			filters := []Filter{{PropertyName: prop, Operator: "EQ", Value: ms(cur.Modified)}}
			if cur.ID != "" {
				filters = append(filters, Filter{PropertyName: "hs_object_id", Operator: "GT", Value: cur.ID})
			}
			page, err := c.Search(ctx, o, SearchRequest{FilterGroups: []FilterGroup{{Filters: filters}},
				Sorts: []Sort{{PropertyName: "hs_object_id", Direction: "ASCENDING"}}, Properties: props})
			if err != nil {
				return err
			}
			for _, obj := range page.Results {
				if err := fn(obj); err != nil {
					return err
				}
				cur.ID = obj.ID
			}
			if len(page.Results) < MaxSearchLimit {
				return nil
			}
		}
	}

	if !cur.Modified.IsZero() {
		if err := drain(); err != nil {
			return cur, fmt.Errorf("hubspot: scan %s: %w", o, err)
		}
	}
	for {
		var filters []Filter
		if !cur.Modified.IsZero() {
			filters = []Filter{{PropertyName: prop, Operator: "GT", Value: ms(cur.Modified)}}
		}
		page, err := c.Search(ctx, o, SearchRequest{FilterGroups: []FilterGroup{{Filters: filters}},
			Sorts: []Sort{{PropertyName: prop, Direction: "ASCENDING"}}, Properties: props})
		if err != nil {
			return cur, fmt.Errorf("hubspot: scan %s: %w", o, err)
		}
		if len(page.Results) == 0 {
			return cur, nil
		}
		times := make([]time.Time, len(page.Results))
		for i := range page.Results {
			times[i] = modifiedAt(&page.Results[i], prop)
		}
		last := times[len(times)-1]
		complete := len(page.Results) < MaxSearchLimit
		// Hand over, in (time, id) order, what this page holds completely:
		// all of it on a last page, else everything before its last time.
		batch := make([]int, 0, len(page.Results))
		for i := range page.Results {
			if complete || times[i].Before(last) {
				batch = append(batch, i)
			}
		}
		sortByTimeID(batch, page.Results, times)
		for _, i := range batch {
			if err := fn(page.Results[i]); err != nil {
				return cur, fmt.Errorf("hubspot: scan %s: %w", o, err)
			}
			cur = ScanCursor{Modified: times[i], ID: page.Results[i].ID}
		}
		if complete {
			return cur, nil
		}
		cur = ScanCursor{Modified: last}
		if err := drain(); err != nil {
			return cur, fmt.Errorf("hubspot: scan %s: %w", o, err)
		}
	}
}

// modifiedAt reads the last-modified property (ISO 8601 or epoch ms),
// falling back to updatedAt.
func modifiedAt(o *Object, prop string) time.Time {
	if v := o.Properties[prop]; v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.UnixMilli(n).UTC()
		}
	}
	return o.UpdatedAt
}

// idLess compares decimal ids numerically.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func sortByTimeID(idx []int, objs []Object, times []time.Time) {
	less := func(x, y int) bool {
		if !times[x].Equal(times[y]) {
			return times[x].Before(times[y])
		}
		return idLess(objs[x].ID, objs[y].ID)
	}
	// insertion sort: pages are at most 200 and already sorted by time
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && less(idx[j], idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}
