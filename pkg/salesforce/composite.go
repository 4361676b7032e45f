package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Subrequest is one request of a composite call. URL is relative to the
// versioned data root ("sobjects/Lead/00Q…") or an absolute instance path
// ("/services/data/…"); it may reference earlier results as
// "@{referenceId.field}".
type Subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	Headers     map[string]string `json:"httpHeaders,omitempty"`
}

// Subresponse is the answer to one sub-request, in request order.
type Subresponse struct {
	Body        json.RawMessage   `json:"body"`
	Headers     map[string]string `json:"httpHeaders"`
	StatusCode  int               `json:"httpStatusCode"`
	ReferenceID string            `json:"referenceId"`
}

// Err returns the sub-request's failure as an *APIError, or nil.
func (r Subresponse) Err() error {
	if r.StatusCode < 300 {
		return nil
	}
	return &APIError{StatusCode: r.StatusCode, Method: "composite", Path: r.ReferenceID, Errors: parseErrorBody(r.Body)}
}

// Composite runs up to MaxCompositeRequests sub-requests in one call
// (allOrNone false: each succeeds or fails on its own, see Subresponse.Err).
//
// POST /services/data/vXX.X/composite
func (c *Client) Composite(ctx context.Context, reqs []Subrequest) ([]Subresponse, error) {
	if len(reqs) == 0 || len(reqs) > MaxCompositeRequests {
		return nil, fmt.Errorf("salesforce: composite: %w: %d sub-requests, want 1 to %d", crmsync.ErrInvalid, len(reqs), MaxCompositeRequests)
	}
	sub := make([]Subrequest, len(reqs))
	for i, r := range reqs {
		if r.ReferenceID == "" || !validName(r.ReferenceID) {
			return nil, fmt.Errorf("salesforce: composite: %w: sub-request %d needs a reference id of letters, digits and _", crmsync.ErrInvalid, i)
		}
		if !strings.HasPrefix(r.URL, "/") {
			r.URL = dataPath + r.URL
		}
		sub[i] = r
	}
	body := struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []Subrequest `json:"compositeRequest"`
	}{Requests: sub}
	var res struct {
		Responses []Subresponse `json:"compositeResponse"`
	}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "composite", body: body}, &res); err != nil {
		return nil, err
	}
	if len(res.Responses) != len(reqs) {
		return nil, fmt.Errorf("salesforce: composite: %d responses for %d sub-requests", len(res.Responses), len(reqs))
	}
	return res.Responses, nil
}
