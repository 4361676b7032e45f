package salesforce

import (
	"context"
	"fmt"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.BatchCRM = (*Client)(nil)

// GetMany reads records by id with one SOQL query per MaxCollectionSize
// ids (crmsync.BatchCRM); ids not found or not visible are left out.
func (c *Client) GetMany(ctx context.Context, o crmsync.ObjectType, ids []string, properties []string) (map[string]crmsync.Record, error) {
	out := make(map[string]crmsync.Record, len(ids))
	for lo := 0; lo < len(ids); lo += MaxCollectionSize {
		chunk := ids[min(lo, len(ids)):min(lo+MaxCollectionSize, len(ids))]
		quoted := make([]string, 0, len(chunk))
		for _, id := range chunk {
			if !ValidID(id) {
				return nil, fmt.Errorf("salesforce: get %s: %w: bad id %q", o, crmsync.ErrInvalid, id)
			}
			quoted = append(quoted, QuoteSOQL(id))
		}
		soql, err := selectSOQL(o, properties, "Id IN ("+strings.Join(quoted, ", ")+")", "")
		if err != nil {
			return nil, err
		}
		err = c.QueryEach(ctx, soql, func(recs []Record) error {
			for _, r := range recs {
				rec := toRecord(o, r)
				out[rec.Ref.ID] = rec
				// Callers may hold 15-character ids: answer under both.
				if len(rec.Ref.ID) == 18 {
					out[rec.Ref.ID[:15]] = rec
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateMany writes updates with sObject Collections, MaxCollectionSize
// per call, allOrNone false (crmsync.BatchCRM). Values are converted as
// Update converts them; a value that does not convert fails only its own
// update.
func (c *Client) UpdateMany(ctx context.Context, o crmsync.ObjectType, updates []crmsync.Update) ([]error, error) {
	errs := make([]error, len(updates))
	var records []Record
	var index []int
	for i, u := range updates {
		fields, err := c.typedFields(ctx, o, u.Properties, true)
		if err != nil {
			errs[i] = err
			continue
		}
		records = append(records, Record{Type: string(o), ID: u.ID, Fields: fields})
		index = append(index, i)
	}
	if len(records) == 0 {
		return errs, nil
	}
	results, err := c.UpdateRecords(ctx, records)
	if err != nil && len(results) == 0 {
		return nil, err
	}
	for j, i := range index {
		if j < len(results) {
			if e := results[j].Err(); e != nil {
				errs[i] = e
			}
		} else {
			errs[i] = fmt.Errorf("salesforce: update %s %s: not sent: %w", o, updates[i].ID, err)
		}
	}
	return errs, nil
}

var _ crmsync.BatchCreator = (*Client)(nil)

// CreateMany creates records of object type o with sObject Collections,
// MaxCollectionSize per call, allOrNone false (crmsync.BatchCreator), and
// returns one result per record, in order: the new id, or the record's
// *RecordError. Values are converted as Create converts them (empty values
// are left out); a value that does not convert fails only its own record
// (an error wrapping crmsync.ErrInvalid) and is not sent. The describe
// that conversion needs is read once per client and object; failing to
// read it fails the call with nothing sent.
//
// When a call fails, the records it carried and those after it get that
// error in their results (their outcome is unknown: a call that timed out
// may have created them), and the error is returned too.
//
// POST /services/data/vXX.X/composite/sobjects
func (c *Client) CreateMany(ctx context.Context, o crmsync.ObjectType, records []map[string]string) ([]crmsync.CreateResult, error) {
	if o.Side() != crmsync.Salesforce {
		return nil, fmt.Errorf("salesforce: create many: %w: %q is not a Salesforce object type", crmsync.ErrInvalid, o)
	}
	out := make([]crmsync.CreateResult, len(records))
	if len(records) == 0 {
		return out, nil
	}
	if _, err := c.describeCached(ctx, string(o)); err != nil {
		return nil, err
	}
	var send []Record
	var index []int
	for i, props := range records {
		fields, err := c.typedFields(ctx, o, props, false)
		if err != nil {
			out[i].Err = err
			continue
		}
		send = append(send, Record{Type: string(o), Fields: fields})
		index = append(index, i)
	}
	if len(send) == 0 {
		return out, nil
	}
	results, err := c.CreateRecords(ctx, send)
	for j, i := range index {
		switch {
		case j < len(results) && results[j].OK():
			out[i].ID = results[j].ID
		case j < len(results):
			out[i].Err = results[j].Err()
		default:
			out[i].Err = fmt.Errorf("salesforce: create %s: outcome unknown: %w", o, err)
		}
	}
	return out, err
}
