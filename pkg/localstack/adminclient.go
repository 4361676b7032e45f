package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/health"
)

// AdminClient calls a running stack's Admin routes (the CLI's way to the
// state a running `crmsync local` holds).
type AdminClient struct {
	// BaseURL is the receivers' base URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	// HTTP is the client (one with a one-minute timeout when nil).
	HTTP *http.Client
}

// AdminError is an Admin answer other than success. Is reports the
// crmsync kind of its status: 400 ErrInvalid, 404 ErrNotFound, 409
// ErrVersionConflict; 503 is Transient.
type AdminError struct {
	Method, URL string
	Status      int
	Message     string
}

func (e *AdminError) Error() string {
	return fmt.Sprintf("local stack: %s %s answered %d %s: %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), e.Message)
}

// Is maps the status to crmsync's error kinds.
func (e *AdminError) Is(target error) bool {
	switch e.Status {
	case http.StatusBadRequest:
		return target == crmsync.ErrInvalid
	case http.StatusNotFound:
		return target == crmsync.ErrNotFound
	case http.StatusConflict:
		return target == crmsync.ErrVersionConflict
	}
	return false
}

// client is c.HTTP, or one with a one-minute timeout.
func (c *AdminClient) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: time.Minute}
}

// Transient reports a 503.
func (e *AdminError) Transient() bool { return e.Status == http.StatusServiceUnavailable }

// Info reads which data file the stack holds.
func (c *AdminClient) Info(ctx context.Context) (Info, error) {
	var out Info
	return out, c.do(ctx, http.MethodGet, "info", nil, nil, &out)
}

// Resync enqueues a manual resync of ref.
func (c *AdminClient) Resync(ctx context.Context, ref crmsync.RecordRef) ([]Enqueued, error) {
	var out ResyncResponse
	err := c.do(ctx, http.MethodPost, "resync", nil, ResyncRequest{Side: ref.Side, Object: ref.Object, ID: ref.ID}, &out)
	return out.Enqueued, err
}

// ResyncErrors enqueues a manual resync of every record with a sync error
// of category ("" = all).
func (c *AdminClient) ResyncErrors(ctx context.Context, category crmsync.Category) ([]Enqueued, error) {
	var out ResyncResponse
	err := c.do(ctx, http.MethodPost, "resync-errors", nil, ResyncRequest{Category: category}, &out)
	return out.Enqueued, err
}

// ResyncList enqueues one page of a HubSpot list's members and returns
// the next page's cursor ("" after the last).
func (c *AdminClient) ResyncList(ctx context.Context, req ResyncListRequest) ([]Enqueued, string, error) {
	var out ResyncListResponse
	err := c.do(ctx, http.MethodPost, "resync-list", nil, req, &out)
	return out.Enqueued, out.Next, err
}

// Redrive moves the triggers dead-lettered in [since, until) back onto
// the queue.
func (c *AdminClient) Redrive(ctx context.Context, since, until time.Time) (int, error) {
	var out RedriveResponse
	err := c.do(ctx, http.MethodPost, "redrive", nil, RedriveRequest{Since: since, Until: until}, &out)
	return out.Moved, err
}

// Settings returns the settings in force (the defaults when none are
// stored).
func (c *AdminClient) Settings(ctx context.Context) (crmsync.Settings, error) {
	var out crmsync.Settings
	return out, c.do(ctx, http.MethodGet, "settings", nil, nil, &out)
}

// PutSettings stores s as crmsync.Store.PutSettings does (an *AdminError
// that Is ErrVersionConflict or ErrInvalid when refused).
func (c *AdminClient) PutSettings(ctx context.Context, s crmsync.Settings) (crmsync.Settings, error) {
	var out crmsync.Settings
	return out, c.do(ctx, http.MethodPut, "settings", nil, s, &out)
}

// Errors lists the sync errors as ListErrors does.
func (c *AdminClient) Errors(ctx context.Context, category crmsync.Category, limit int) (ErrorsReport, error) {
	var out ErrorsReport
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if category != "" {
		q.Set("category", string(category))
	}
	return out, c.do(ctx, http.MethodGet, "errors", q, nil, &out)
}

// Explain explains a record as Explain does.
func (c *AdminClient) Explain(ctx context.Context, ref crmsync.RecordRef, limit int) (Explanation, error) {
	var out Explanation
	q := url.Values{"side": {string(ref.Side)}, "object": {string(ref.Object)}, "id": {ref.ID}, "limit": {strconv.Itoa(limit)}}
	return out, c.do(ctx, http.MethodGet, "explain", q, nil, &out)
}

// Health is the running stack's Sync Health report (GET /health.json).
func (c *AdminClient) Health(ctx context.Context) (health.Report, error) {
	var out health.Report
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.BaseURL, "/")+"/health.json", nil)
	if err != nil {
		return out, err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return out, fmt.Errorf("local stack %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("local stack %s: /health.json answered %s", c.BaseURL, resp.Status)
	}
	return out, json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out)
}

// Plan is engine.Engine.PlanSettings on the running stack.
func (c *AdminClient) Plan(ctx context.Context, proposed crmsync.Settings, batchSize int) (engine.SettingsPlan, error) {
	var out engine.SettingsPlan
	return out, c.do(ctx, http.MethodPost, "plan", nil, PlanRequest{Settings: proposed, BatchSize: batchSize}, &out)
}

// Preview is engine.Engine.Preview on the running stack.
func (c *AdminClient) Preview(ctx context.Context, ref crmsync.RecordRef) (engine.Preview, error) {
	var out engine.Preview
	q := url.Values{"side": {string(ref.Side)}, "object": {string(ref.Object)}, "id": {ref.ID}}
	return out, c.do(ctx, http.MethodGet, "preview", q, nil, &out)
}

// do calls route and decodes a successful answer into out. A failed
// answer is an *AdminError; out is decoded from it too, as the resync
// routes list what they enqueued before failing.
func (c *AdminClient) do(ctx context.Context, method, route string, query url.Values, in, out any) error {
	u := strings.TrimSuffix(c.BaseURL, "/") + AdminPath + route
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("local stack: encode %s request: %w", route, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("local stack (is crmsync local running there?): %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("local stack: %s %s: read answer: %w", method, u, err)
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("local stack: %s %s answered %s that is not an admin answer: %w", method, u, resp.Status, err)
		}
		return nil
	}
	var e adminError
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		return &AdminError{Method: method, URL: u, Status: resp.StatusCode, Message: "not an admin answer (is this crmsync local's address?)"}
	}
	_ = json.Unmarshal(b, out)
	return &AdminError{Method: method, URL: u, Status: resp.StatusCode, Message: e.Error}
}
