package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// APIVersion is the one REST API version crmsync speaks (Winter '25).
const APIVersion = "v62.0"

// dataPath is the root of the versioned REST resources.
const dataPath = "/services/data/" + APIVersion + "/"

// Limits of the REST API the client respects.
const (
	// MaxCollectionSize is the most records one sObject Collections call
	// takes; the client splits larger slices.
	MaxCollectionSize = 200
	// MaxCompositeRequests is the most sub-requests of one composite call.
	MaxCompositeRequests = 25
)

// maxErrorBody caps how much of an error body is read.
const maxErrorBody = 1 << 20

// DefaultTimeout is the timeout of the HTTP client NewClient builds when
// none is given.
const DefaultTimeout = 30 * time.Second

// UsageCounter counts API calls; crmsync.Store satisfies it. The client
// calls it once per REST call with side crmsync.Salesforce and n 1. Its
// errors do not fail the call (which already happened at Salesforce); the
// org's own count arrives with every response as LimitInfo.
type UsageCounter interface {
	AddAPIUsage(ctx context.Context, side crmsync.Side, at time.Time, n int) error
}

var _ UsageCounter = crmsync.Store(nil)

// LimitInfo is the org's API usage from the Sforce-Limit-Info header.
type LimitInfo struct {
	// Used and Max are the org's calls in the last 24 hours and its
	// allocation (api-usage=Used/Max).
	Used, Max int64
	// PerApp holds per-app-api-usage entries, when present.
	PerApp []AppUsage
}

// AppUsage is one connected app's usage and quota.
type AppUsage struct {
	App       string
	Used, Max int64
}

// ParseLimitInfo parses a Sforce-Limit-Info header value, e.g.
// "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)".
// ok is false when it holds no api-usage.
func ParseLimitInfo(h string) (info LimitInfo, ok bool) {
	for _, part := range strings.Split(h, ";") {
		key, val, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			continue
		}
		app := ""
		if i := strings.IndexByte(val, '('); i >= 0 && strings.HasSuffix(val, ")") {
			if name, found := strings.CutPrefix(val[i+1:len(val)-1], "appName="); found {
				app = name
			}
			val = val[:i]
		}
		used, max, found := strings.Cut(val, "/")
		u, err1 := strconv.ParseInt(strings.TrimSpace(used), 10, 64)
		m, err2 := strconv.ParseInt(strings.TrimSpace(max), 10, 64)
		if !found || err1 != nil || err2 != nil {
			continue
		}
		switch key {
		case "api-usage":
			info.Used, info.Max, ok = u, m, true
		case "per-app-api-usage":
			info.PerApp = append(info.PerApp, AppUsage{App: app, Used: u, Max: m})
		}
	}
	return info, ok
}

// DuplicateRuleHeader is the Sforce-Duplicate-Rule-Header sent with writes.
type DuplicateRuleHeader struct {
	AllowSave            bool
	IncludeRecordDetails bool
	RunAsCurrentUser     bool
}

func (h DuplicateRuleHeader) String() string {
	return fmt.Sprintf("allowSave=%t; includeRecordDetails=%t; runAsCurrentUser=%t",
		h.AllowSave, h.IncludeRecordDetails, h.RunAsCurrentUser)
}

// Client is a Salesforce REST API client. It is safe for concurrent use.
type Client struct {
	hc        *http.Client
	baseURL   string
	auth      *Transport
	callOpts  string
	dupHeader string
	usage     UsageCounter
	onLimit   func(context.Context, LimitInfo)
	now       func() time.Time

	mu        sync.Mutex
	limit     LimitInfo
	calls     int64
	described map[string]*Describe
	owners    ownerCache
	// memberStatuses caches each campaign's member status labels.
	memberStatuses map[string][]string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses hc (its Transport is wrapped when a token source is
// set). The default has DefaultTimeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithBaseURL sets the instance URL (e.g. https://acme.my.salesforce.com,
// or a test server with a path prefix). Without it the instance_url of
// the OAuth token is used.
func WithBaseURL(u string) Option { return func(c *Client) { c.baseURL = strings.TrimSuffix(u, "/") } }

// WithTokenSource authenticates every call with tokens from src (see
// JWTConfig and RefreshTokenConfig), re-authenticating once on 401
// INVALID_SESSION_ID.
func WithTokenSource(src oauth2.TokenSource) Option {
	return func(c *Client) { c.auth = &Transport{Source: src} }
}

// DefaultClientID is the Sforce-Call-Options client id sent when
// WithClientID is not given.
const DefaultClientID = "crmsync"

// WithClientID sends "Sforce-Call-Options: client=<id>" on every call (the
// default is DefaultClientID), so crmsync's own writes are recognisable.
func WithClientID(id string) Option {
	return func(c *Client) { c.callOpts = "client=" + id }
}

// WithDuplicateRuleHeader sends h as Sforce-Duplicate-Rule-Header on
// every write.
func WithDuplicateRuleHeader(h DuplicateRuleHeader) Option {
	return func(c *Client) { c.dupHeader = h.String() }
}

// WithUsageCounter counts every call in u.
func WithUsageCounter(u UsageCounter) Option { return func(c *Client) { c.usage = u } }

// WithLimitInfoFunc calls f with the Sforce-Limit-Info of every response.
func WithLimitInfoFunc(f func(context.Context, LimitInfo)) Option {
	return func(c *Client) { c.onLimit = f }
}

// NewClient returns a client. It needs WithBaseURL, WithTokenSource or both.
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{now: time.Now, callOpts: "client=" + DefaultClientID}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultTimeout}
	}
	if c.auth != nil {
		hc := *c.hc
		c.auth.Base = hc.Transport
		hc.Transport = c.auth
		c.hc = &hc
	}
	if c.baseURL == "" && c.auth == nil {
		return nil, fmt.Errorf("salesforce: new client: %w: need a base URL or a token source", crmsync.ErrInvalid)
	}
	if c.baseURL != "" {
		if u, err := url.Parse(c.baseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("salesforce: new client: %w: bad base URL %q", crmsync.ErrInvalid, c.baseURL)
		}
	}
	return c, nil
}

// LimitInfo returns the last Sforce-Limit-Info seen and the number of
// calls this client made.
func (c *Client) LimitInfo() (LimitInfo, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit, c.calls
}

func (c *Client) instanceURL() (string, error) {
	if c.baseURL != "" {
		return c.baseURL, nil
	}
	return c.auth.InstanceURL()
}

// request is one REST call. path is either relative to the versioned data
// root ("sobjects/Lead") or absolute ("/services/data/…", used verbatim).
type request struct {
	method string
	path   string
	query  url.Values
	body   any
}

// do sends r and decodes a successful JSON answer into out (nil = discard).
// It returns the HTTP status. Error statuses become *APIError, failures
// to get an answer *TransportError.
func (c *Client) do(ctx context.Context, r request, out any) (int, error) {
	base, err := c.instanceURL()
	if err != nil {
		return 0, err
	}
	p := r.path
	if !strings.HasPrefix(p, "/") {
		p = dataPath + p
	}
	u := base + p
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return 0, fmt.Errorf("salesforce: %s %s: encode request: %w", r.method, p, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return 0, fmt.Errorf("salesforce: %s %s: %w", r.method, p, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Sforce-Call-Options", c.callOpts)
	if c.dupHeader != "" && (r.method == http.MethodPost || r.method == http.MethodPatch) {
		req.Header.Set("Sforce-Duplicate-Rule-Header", c.dupHeader)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) {
			return 0, ae
		}
		return 0, &TransportError{Method: r.method, Path: p, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	c.observe(ctx, resp)
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		e := &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: p, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now())}
		if resp.StatusCode == http.StatusMultipleChoices {
			e.Errors = multipleChoices(b)
		} else {
			e.Errors = parseErrorBody(b)
		}
		return resp.StatusCode, e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return resp.StatusCode, nil
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return resp.StatusCode, &TransportError{Method: r.method, Path: p, Err: fmt.Errorf("decode response: %w", err)}
	}
	return resp.StatusCode, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// unwrapURLError drops *url.Error's URL, which may hold a SOQL query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) observe(ctx context.Context, resp *http.Response) {
	info, ok := ParseLimitInfo(resp.Header.Get("Sforce-Limit-Info"))
	c.mu.Lock()
	c.calls++
	if ok {
		c.limit = info
	}
	c.mu.Unlock()
	if c.usage != nil {
		_ = c.usage.AddAPIUsage(ctx, crmsync.Salesforce, c.now(), 1)
	}
	if ok && c.onLimit != nil {
		c.onLimit(ctx, info)
	}
}

// multipleChoices turns a 300 answer to an upsert (a JSON list of the
// matching records' URLs) into a DUPLICATE_EXTERNAL_ID error.
func multipleChoices(body []byte) []ErrorItem {
	var urls []string
	_ = json.Unmarshal(body, &urls)
	it := ErrorItem{ErrorCode: CodeDuplicateExternalID, Message: "more than one record has this external id"}
	for _, u := range urls {
		it.MatchedIDs = append(it.MatchedIDs, path.Base(u))
	}
	return []ErrorItem{it}
}
