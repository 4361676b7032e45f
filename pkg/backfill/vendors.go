package backfill

import (
	"context"
	"fmt"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// HubSpotAPI is what the HubSpot adapter needs of *hubspot.Client.
type HubSpotAPI interface {
	ListObjects(ctx context.Context, o crmsync.ObjectType, archived bool, after string, limit int, properties []string) (*hubspot.ListPage, error)
	Search(ctx context.Context, o crmsync.ObjectType, r hubspot.SearchRequest) (*hubspot.SearchPage, error)
	BatchCreate(ctx context.Context, o crmsync.ObjectType, inputs []hubspot.CreateInput) ([]hubspot.BatchResult, error)
	GetMany(ctx context.Context, o crmsync.ObjectType, ids []string, properties []string) (map[string]crmsync.Record, error)
}

var _ HubSpotAPI = (*hubspot.Client)(nil)

// HubSpot adapts the HubSpot client to the backfill: it pages through
// records with the object list (100 per call, in id order, resumable at
// its after token), matches emails with a search IN of 100 values, and
// creates in batches of 100.
type HubSpot struct{ Client HubSpotAPI }

var (
	_ Pager                = HubSpot{}
	_ engine.EmailFinder   = HubSpot{}
	_ crmsync.BatchCreator = HubSpot{}
)

// Page implements Pager with GET /crm/v3/objects/{type}.
func (h HubSpot) Page(ctx context.Context, o crmsync.ObjectType, after string, limit int) ([]string, string, error) {
	page, err := h.Client.ListObjects(ctx, o, false, after, min(limit, hubspot.MaxListLimit), nil)
	if err != nil {
		return nil, "", fmt.Errorf("hubspot: list %s: %w", o, err)
	}
	ids := make([]string, len(page.Objects))
	for i, obj := range page.Objects {
		ids[i] = obj.ID
	}
	return ids, page.Next, nil
}

// Count implements Pager with a search's total (one search call).
func (h HubSpot) Count(ctx context.Context, o crmsync.ObjectType) (int, error) {
	page, err := h.Client.Search(ctx, o, hubspot.SearchRequest{Limit: 1})
	if err != nil {
		return 0, fmt.Errorf("hubspot: count %s: %w", o, err)
	}
	return page.Total, nil
}

// FindByEmails implements engine.EmailFinder: a search on email IN (100
// values) per 100 emails, then one batch read of what it found.
func (h HubSpot) FindByEmails(ctx context.Context, o crmsync.ObjectType, emails []string, properties []string) (map[string][]crmsync.Record, error) {
	var ids []string
	for lo := 0; lo < len(emails); lo += hubspot.MaxBatch {
		req := hubspot.SearchRequest{FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{
			{PropertyName: "email", Operator: "IN", Values: emails[lo:min(lo+hubspot.MaxBatch, len(emails))]}}}},
			Limit: hubspot.MaxSearchLimit}
		for {
			page, err := h.Client.Search(ctx, o, req)
			if err != nil {
				return nil, fmt.Errorf("hubspot: find %s by email: %w", o, err)
			}
			for _, obj := range page.Results {
				ids = append(ids, obj.ID)
			}
			if req.After = page.Next; req.After == "" {
				break
			}
		}
	}
	return readByEmail(ctx, h.Client, o, ids, properties)
}

// CreateMany implements crmsync.BatchCreator with batch create (100 per
// call).
func (h HubSpot) CreateMany(ctx context.Context, o crmsync.ObjectType, records []map[string]string) ([]crmsync.CreateResult, error) {
	inputs := make([]hubspot.CreateInput, len(records))
	for i, r := range records {
		inputs[i] = hubspot.CreateInput{Properties: r}
	}
	results, err := h.Client.BatchCreate(ctx, o, inputs)
	out := make([]crmsync.CreateResult, len(results))
	for i, r := range results {
		out[i].Err = r.Err
		if r.Err == nil && r.Object != nil {
			out[i].ID = r.Object.ID
		}
	}
	if err != nil {
		return out, fmt.Errorf("hubspot: create %s: %w", o, err)
	}
	return out, nil
}

// SalesforceAPI is what the Salesforce adapter needs of *salesforce.Client.
type SalesforceAPI interface {
	QueryEach(ctx context.Context, soql string, fn func([]salesforce.Record) error) error
	Query(ctx context.Context, soql string) (*salesforce.QueryResult, error)
	GetMany(ctx context.Context, o crmsync.ObjectType, ids []string, properties []string) (map[string]crmsync.Record, error)
}

var _ SalesforceAPI = (*salesforce.Client)(nil)

// Salesforce adapts the Salesforce client to the backfill: it pages
// through records by Id with SOQL keyset paging (Id > last ORDER BY Id,
// resumable at the last id, no query locator to expire while the budget
// pauses) and matches emails with SOQL Email IN (…) of 200. Creations in
// batches are the client's own (crmsync.BatchCreator).
type Salesforce struct{ Client SalesforceAPI }

var (
	_ Pager              = Salesforce{}
	_ engine.EmailFinder = Salesforce{}
)

// Page implements Pager: SELECT Id FROM o WHERE Id > after ORDER BY Id
// LIMIT limit.
func (s Salesforce) Page(ctx context.Context, o crmsync.ObjectType, after string, limit int) ([]string, string, error) {
	where := ""
	if after != "" {
		if !salesforce.ValidID(after) {
			return nil, "", fmt.Errorf("salesforce: list %s: %w: bad position %q", o, crmsync.ErrInvalid, after)
		}
		where = " WHERE Id > " + salesforce.QuoteSOQL(after)
	}
	var ids []string
	err := s.Client.QueryEach(ctx, fmt.Sprintf("SELECT Id FROM %s%s ORDER BY Id LIMIT %d", o, where, limit), func(recs []salesforce.Record) error {
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("salesforce: list %s: %w", o, err)
	}
	if len(ids) < limit {
		return ids, "", nil
	}
	return ids, ids[len(ids)-1], nil
}

// Count implements Pager with the first page's totalSize (one query).
func (s Salesforce) Count(ctx context.Context, o crmsync.ObjectType) (int, error) {
	res, err := s.Client.Query(ctx, "SELECT Id FROM "+string(o))
	if err != nil {
		return 0, fmt.Errorf("salesforce: count %s: %w", o, err)
	}
	return res.TotalSize, nil
}

// FindByEmails implements engine.EmailFinder: SELECT Id FROM o WHERE
// Email IN (…) per 200 emails, then one batch read of what it found.
func (s Salesforce) FindByEmails(ctx context.Context, o crmsync.ObjectType, emails []string, properties []string) (map[string][]crmsync.Record, error) {
	if o != crmsync.SFLead && o != crmsync.SFContact {
		return nil, fmt.Errorf("salesforce: find %s by email: %w: only leads and contacts have an email", o, crmsync.ErrInvalid)
	}
	var ids []string
	for lo := 0; lo < len(emails); lo += salesforce.MaxCollectionSize {
		chunk := emails[lo:min(lo+salesforce.MaxCollectionSize, len(emails))]
		quoted := make([]string, len(chunk))
		for i, e := range chunk {
			quoted[i] = salesforce.QuoteSOQL(e)
		}
		err := s.Client.QueryEach(ctx, fmt.Sprintf("SELECT Id FROM %s WHERE Email IN (%s)", o, strings.Join(quoted, ", ")), func(recs []salesforce.Record) error {
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("salesforce: find %s by email: %w", o, err)
		}
	}
	return readByEmail(ctx, s.Client, o, ids, properties)
}

// batchReader reads records by id (crmsync.BatchCRM's GetMany).
type batchReader interface {
	GetMany(ctx context.Context, o crmsync.ObjectType, ids []string, properties []string) (map[string]crmsync.Record, error)
}

// readByEmail reads the records of ids (none: no call) and groups them by
// their email in lower case, most recently modified first.
func readByEmail(ctx context.Context, r batchReader, o crmsync.ObjectType, ids []string, properties []string) (map[string][]crmsync.Record, error) {
	out := map[string][]crmsync.Record{}
	if len(ids) == 0 {
		return out, nil
	}
	emailProp := "Email"
	if o == crmsync.HSContact {
		emailProp = "email"
	}
	got, err := r.GetMany(ctx, o, ids, append(append([]string{}, properties...), emailProp))
	if err != nil {
		return nil, fmt.Errorf("read %s by email: %w", o, err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		rec, ok := got[id]
		if !ok || seen[rec.Ref.ID] {
			continue
		}
		seen[rec.Ref.ID] = true
		email := strings.ToLower(strings.TrimSpace(rec.Properties[emailProp]))
		list := append(out[email], rec)
		for i := len(list) - 1; i > 0 && list[i].LastModified.After(list[i-1].LastModified); i-- {
			list[i], list[i-1] = list[i-1], list[i]
		}
		out[email] = list
	}
	return out, nil
}
