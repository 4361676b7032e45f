package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// SaveResult is the outcome of one record of a collection call, at the
// index of its input.
type SaveResult struct {
	ID      string
	Created bool
	// Errors is empty on success. Each is a *RecordError with its own
	// Transient and Category; a record rolled back because another failed
	// has ALL_OR_NONE_OPERATION_ROLLED_BACK (transient).
	Errors []*RecordError
}

// OK reports whether the record was saved.
func (r SaveResult) OK() bool { return len(r.Errors) == 0 }

// Err returns the first error, or nil.
func (r SaveResult) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return r.Errors[0]
}

type collectionBody struct {
	AllOrNone bool     `json:"allOrNone"`
	Records   []Record `json:"records"`
}

// CreateRecords creates records (each with Type, without ID) with sObject
// Collections, MaxCollectionSize per call, allOrNone false. The results
// are in input order. An error fails the whole call: the results then hold
// the chunks that completed before it.
//
// POST /services/data/vXX.X/composite/sobjects
func (c *Client) CreateRecords(ctx context.Context, records []Record) ([]SaveResult, error) {
	for i, r := range records {
		if !validName(r.Type) || r.ID != "" {
			return nil, fmt.Errorf("salesforce: create records: %w: record %d needs a type and no id", crmsync.ErrInvalid, i)
		}
	}
	return c.collection(ctx, "create records", records, func(chunk []Record) request {
		return request{method: http.MethodPost, path: "composite/sobjects", body: collectionBody{Records: chunk}}
	})
}

// UpdateRecords updates records (each with Type and ID) with sObject
// Collections, as CreateRecords.
//
// PATCH /services/data/vXX.X/composite/sobjects
func (c *Client) UpdateRecords(ctx context.Context, records []Record) ([]SaveResult, error) {
	for i, r := range records {
		if !validName(r.Type) || !ValidID(r.ID) {
			return nil, fmt.Errorf("salesforce: update records: %w: record %d needs a type and an id", crmsync.ErrInvalid, i)
		}
	}
	return c.collection(ctx, "update records", records, func(chunk []Record) request {
		return request{method: http.MethodPatch, path: "composite/sobjects", body: collectionBody{Records: chunk}}
	})
}

// UpsertRecords upserts records of one sObject type by the external id
// field extField (which each record must set), as CreateRecords.
// SaveResult.Created tells creates from updates.
//
// PATCH /services/data/vXX.X/composite/sobjects/{sobject}/{extField}
func (c *Client) UpsertRecords(ctx context.Context, sobject, extField string, records []Record) ([]SaveResult, error) {
	if err := checkNames("upsert records", sobject, extField); err != nil {
		return nil, err
	}
	for i, r := range records {
		if r.Type != sobject || r.Fields[extField] == nil {
			return nil, fmt.Errorf("salesforce: upsert records: %w: record %d needs type %s and field %s", crmsync.ErrInvalid, i, sobject, extField)
		}
	}
	return c.collection(ctx, "upsert records", records, func(chunk []Record) request {
		return request{method: http.MethodPatch, path: "composite/sobjects/" + sobject + "/" + extField, body: collectionBody{Records: chunk}}
	})
}

// DeleteRecords deletes records by id with sObject Collections, as
// CreateRecords.
//
// DELETE /services/data/vXX.X/composite/sobjects?ids=…&allOrNone=false
func (c *Client) DeleteRecords(ctx context.Context, ids []string) ([]SaveResult, error) {
	for _, id := range ids {
		if err := checkID("delete records", id); err != nil {
			return nil, err
		}
	}
	records := make([]Record, len(ids))
	for i, id := range ids {
		records[i].ID = id
	}
	return c.collection(ctx, "delete records", records, func(chunk []Record) request {
		ids := make([]string, len(chunk))
		for i, r := range chunk {
			ids[i] = r.ID
		}
		return request{method: http.MethodDelete, path: "composite/sobjects",
			query: url.Values{"ids": {strings.Join(ids, ",")}, "allOrNone": {"false"}}}
	})
}

func (c *Client) collection(ctx context.Context, op string, records []Record, build func([]Record) request) ([]SaveResult, error) {
	out := make([]SaveResult, 0, len(records))
	for start := 0; start < len(records); start += MaxCollectionSize {
		end := min(start+MaxCollectionSize, len(records))
		var res []saveResult
		if _, err := c.do(ctx, build(records[start:end]), &res); err != nil {
			return out, fmt.Errorf("salesforce: %s %d-%d of %d: %w", op, start, end-1, len(records), err)
		}
		if len(res) != end-start {
			return out, fmt.Errorf("salesforce: %s %d-%d of %d: %d results for %d records", op, start, end-1, len(records), len(res), end-start)
		}
		for i, r := range res {
			sr := SaveResult{ID: r.ID, Created: r.Created != nil && *r.Created}
			if sr.ID == "" {
				sr.ID = records[start+i].ID
			}
			for _, e := range r.Errors {
				sr.Errors = append(sr.Errors, e.recordError())
			}
			if !r.Success && len(sr.Errors) == 0 {
				sr.Errors = []*RecordError{firstRecordError(nil)}
			}
			out = append(out, sr)
		}
	}
	return out, nil
}
