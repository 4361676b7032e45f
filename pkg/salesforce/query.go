package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// QueryResult is one page of a SOQL query. TotalSize counts the whole
// result; NextRecordsURL is set while Done is false.
type QueryResult struct {
	TotalSize      int      `json:"totalSize"`
	Done           bool     `json:"done"`
	NextRecordsURL string   `json:"nextRecordsUrl"`
	Records        []Record `json:"records"`
}

// Query runs a SOQL query and returns its first page.
//
// GET /services/data/vXX.X/query?q=…
func (c *Client) Query(ctx context.Context, soql string) (*QueryResult, error) {
	var res QueryResult
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "query", query: url.Values{"q": {soql}}}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// QueryMore returns the page at nextRecordsURL, a path Salesforce returned
// that is followed verbatim against the instance URL.
//
// GET {nextRecordsUrl}
func (c *Client) QueryMore(ctx context.Context, nextRecordsURL string) (*QueryResult, error) {
	if !strings.HasPrefix(nextRecordsURL, "/services/") || strings.Contains(nextRecordsURL, "://") {
		return nil, fmt.Errorf("salesforce: query more: %w: %q is not an instance path", crmsync.ErrInvalid, nextRecordsURL)
	}
	var res QueryResult
	if _, err := c.do(ctx, request{method: http.MethodGet, path: nextRecordsURL}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// QueryEach runs a SOQL query and calls fn with every page's records in
// order, following nextRecordsUrl until done; an error from fn stops it
// and is returned as is.
func (c *Client) QueryEach(ctx context.Context, soql string, fn func([]Record) error) error {
	res, err := c.Query(ctx, soql)
	for {
		if err != nil {
			return err
		}
		if err := fn(res.Records); err != nil {
			return err
		}
		if res.Done || res.NextRecordsURL == "" {
			return nil
		}
		res, err = c.QueryMore(ctx, res.NextRecordsURL)
	}
}

// QuoteSOQL returns s as a SOQL string literal, quoted and escaped.
func QuoteSOQL(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\b", `\b`, "\f", `\f`, `"`, `\"`)
	return "'" + r.Replace(s) + "'"
}

// QueryAll is Query including deleted and archived records (IsDeleted
// true; merged-away records carry MasterRecordId).
//
// GET /services/data/vXX.X/queryAll?q=...
func (c *Client) QueryAll(ctx context.Context, soql string) (*QueryResult, error) {
	var res QueryResult
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "queryAll", query: url.Values{"q": {soql}}}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
