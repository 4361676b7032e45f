package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// SalesforceAPI is what SalesforceSource needs of *salesforce.Client.
type SalesforceAPI interface {
	// QueryEach runs a SOQL query and calls fn with each page of records.
	QueryEach(ctx context.Context, soql string, fn func([]salesforce.Record) error) error
	// GetDeleted lists the records of sobject deleted between start and end.
	GetDeleted(ctx context.Context, sobject string, start, end time.Time) (*salesforce.DeletedResult, error)
}

var _ SalesforceAPI = (*salesforce.Client)(nil)

// DefaultSalesforcePage is the LIMIT of each SalesforceSource query.
const DefaultSalesforcePage = 2000

// SalesforceSource lists Salesforce changes with SOQL on SystemModstamp in
// (SystemModstamp, Id) order, one keyset page at a time:
//
//	SELECT Id, SystemModstamp FROM Lead
//	WHERE SystemModstamp > T OR (SystemModstamp = T AND Id > 'last id')
//	ORDER BY SystemModstamp, Id LIMIT 2000
//
// so no query depends on an OFFSET or on a query locator staying alive,
// and any number of records on one timestamp are read once each.
// SystemModstamp (not LastModifiedDate) also moves on changes made by the
// system, such as roll-ups and merges. Deletions come from getDeleted.
type SalesforceSource struct {
	Client SalesforceAPI
	// PageSize is the LIMIT of each query (DefaultSalesforcePage when 0).
	PageSize int
	// Now is the clock getDeleted's window is measured with (time.Now when
	// nil).
	Now func() time.Time
}

var (
	_ Source    = (*SalesforceSource)(nil)
	_ Deletions = (*SalesforceSource)(nil)
)

// soqlTime formats t as a SOQL date-time literal. Salesforce keeps
// SystemModstamp to the second, so nothing is lost.
func soqlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// changesQuery is the SOQL of one page after from.
func changesQuery(o crmsync.ObjectType, from crmsync.Cursor, limit int) string {
	where := ""
	switch {
	case from.Timestamp.IsZero():
	case from.LastID == "":
		where = " WHERE SystemModstamp >= " + soqlTime(from.Timestamp)
	default:
		t := soqlTime(from.Timestamp)
		where = fmt.Sprintf(" WHERE SystemModstamp > %s OR (SystemModstamp = %s AND Id > %s)", t, t, salesforce.QuoteSOQL(from.LastID))
	}
	return fmt.Sprintf("SELECT Id, SystemModstamp FROM %s%s ORDER BY SystemModstamp, Id LIMIT %d", o, where, limit)
}

// Changes implements Source.
func (s *SalesforceSource) Changes(ctx context.Context, o crmsync.ObjectType, from crmsync.Cursor, fn func(Change) error) error {
	limit := orDefault(s.PageSize, DefaultSalesforcePage)
	for {
		n := 0
		err := s.Client.QueryEach(ctx, changesQuery(o, from, limit), func(recs []salesforce.Record) error {
			for _, rec := range recs {
				at, err := salesforce.ParseTime(rec.Text("SystemModstamp"))
				if err != nil {
					return fmt.Errorf("record %s: %w", rec.ID, err)
				}
				if err := fn(Change{Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: o, ID: rec.ID}, Modified: at}); err != nil {
					return err
				}
				from.Timestamp, from.LastID = at, rec.ID
				n++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("salesforce changes %s: %w", o, err)
		}
		if n < limit {
			return nil
		}
	}
}

// deletedMargin keeps getDeleted's start this far inside its window, so
// the client's clock and Salesforce's may differ a little.
const deletedMargin = 5 * time.Minute

// Deleted implements Deletions with one getDeleted call. A from older
// than Salesforce's window (salesforce.DeletedWindow) starts at the
// window's beginning instead, which Deleted's result reports.
func (s *SalesforceSource) Deleted(ctx context.Context, o crmsync.ObjectType, from, until time.Time, fn func(Change) error) (time.Time, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	start := from
	if earliest := now().Add(-salesforce.DeletedWindow + deletedMargin); start.Before(earliest) {
		start = earliest
	}
	// getDeleted works to the minute and wants the end after the start.
	if !until.Truncate(time.Minute).After(start.Truncate(time.Minute)) {
		return start, nil
	}
	res, err := s.Client.GetDeleted(ctx, string(o), start, until)
	if err != nil {
		return start, fmt.Errorf("salesforce deletions %s: %w", o, err)
	}
	for _, d := range res.DeletedRecords {
		if err := fn(Change{Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: o, ID: d.ID}, Modified: d.DeletedDate.Time}); err != nil {
			return start, err
		}
	}
	return start, nil
}
