package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Windows of the replication resources: getUpdated answers for the last
// 30 days, getDeleted for the last 15. Both ignore seconds.
const (
	UpdatedWindow = 30 * 24 * time.Hour
	DeletedWindow = 15 * 24 * time.Hour
)

// Time is a Salesforce date-time ("2013-05-07T22:07:19.000+0000" in JSON
// answers; RFC 3339 is accepted too).
type Time struct{ time.Time }

// UnmarshalJSON reads either form; null stays zero.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) < 2 || s[0] != '"' {
		return fmt.Errorf("salesforce: bad date-time %s", s)
	}
	v, err := ParseTime(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// ParseTime parses a Salesforce date-time in its JSON form or RFC 3339.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("salesforce: bad date-time %q", s)
}

// UpdatedResult lists the records changed in a window. Start the next
// window at LatestDateCovered: changes after it may not be complete yet.
type UpdatedResult struct {
	IDs               []string `json:"ids"`
	LatestDateCovered Time     `json:"latestDateCovered"`
}

// DeletedRecord is one deleted record.
type DeletedRecord struct {
	ID          string `json:"id"`
	DeletedDate Time   `json:"deletedDate"`
}

// DeletedResult lists the records deleted in a window.
type DeletedResult struct {
	DeletedRecords        []DeletedRecord `json:"deletedRecords"`
	EarliestDateAvailable Time            `json:"earliestDateAvailable"`
	LatestDateCovered     Time            `json:"latestDateCovered"`
}

// checkWindow truncates start and end to the minute, as Salesforce does,
// and refuses windows it would refuse: empty, or starting before the
// resource's window (INVALID_REPLICATION_DATE).
func (c *Client) checkWindow(op string, start, end time.Time, window time.Duration) (url.Values, error) {
	start, end = start.UTC().Truncate(time.Minute), end.UTC().Truncate(time.Minute)
	if !end.After(start) {
		return nil, fmt.Errorf("salesforce: %s: %w: end %s is not after start %s (to the minute)", op, crmsync.ErrInvalid, end, start)
	}
	if earliest := c.now().UTC().Add(-window); start.Before(earliest) {
		return nil, fmt.Errorf("salesforce: %s: %w: start %s is before %s, the earliest the API answers for", op, crmsync.ErrInvalid, start, earliest.Truncate(time.Minute))
	}
	// The documented form: 2013-05-05T00:00:00+00:00.
	const layout = "2006-01-02T15:04:05-07:00"
	return url.Values{"start": {start.Format(layout)}, "end": {end.Format(layout)}}, nil
}

// GetUpdated lists the ids of records of sobject changed between start and
// end (at most UpdatedWindow ago).
//
// GET /services/data/vXX.X/sobjects/{sobject}/updated/?start=…&end=…
func (c *Client) GetUpdated(ctx context.Context, sobject string, start, end time.Time) (*UpdatedResult, error) {
	if err := checkNames("get updated", sobject); err != nil {
		return nil, err
	}
	q, err := c.checkWindow("get updated "+sobject, start, end, UpdatedWindow)
	if err != nil {
		return nil, err
	}
	var res UpdatedResult
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "sobjects/" + sobject + "/updated/", query: q}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// GetDeleted lists the records of sobject deleted between start and end
// (at most DeletedWindow ago).
//
// GET /services/data/vXX.X/sobjects/{sobject}/deleted/?start=…&end=…
func (c *Client) GetDeleted(ctx context.Context, sobject string, start, end time.Time) (*DeletedResult, error) {
	if err := checkNames("get deleted", sobject); err != nil {
		return nil, err
	}
	q, err := c.checkWindow("get deleted "+sobject, start, end, DeletedWindow)
	if err != nil {
		return nil, err
	}
	var res DeletedResult
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "sobjects/" + sobject + "/deleted/", query: q}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
