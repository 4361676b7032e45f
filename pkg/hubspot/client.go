package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com/"

// OAuthEndpoint is HubSpot's OAuth 2.0 endpoint, for oauth2.Config.
var OAuthEndpoint = oauth2.Endpoint{
	AuthURL:   "https://app.hubspot.com/oauth/authorize",
	TokenURL:  "https://api.hubapi.com/oauth/v1/token",
	AuthStyle: oauth2.AuthStyleInParams,
}

// Defaults of the client's limits.
const (
	// DefaultBurstLimit per DefaultBurstWindow is the ten-second limit of
	// OAuth apps (private apps on higher tiers may configure more).
	DefaultBurstLimit  = 110
	DefaultBurstWindow = 10 * time.Second
	// DefaultSearchLimit per second is the CRM search endpoints' limit.
	DefaultSearchLimit = 5
	DefaultMaxRetries  = 4
	// lockedBackoff is the least wait after a 423 Locked.
	lockedBackoff = 2 * time.Second
	// maxErrorBody caps how much of an error body is read.
	maxErrorBody = 64 << 10
	// maxBody caps how much of a success body is read.
	maxBody = 32 << 20
)

// UsageCounter counts API calls; crmsync.Store satisfies it. Errors are
// ignored by the client: a call is never failed because it could not be
// counted.
type UsageCounter interface {
	AddAPIUsage(ctx context.Context, side crmsync.Side, at time.Time, n int) error
}

var _ UsageCounter = crmsync.Store(nil)

// Client is a HubSpot REST client. Create it with NewClient; it is safe for
// concurrent use, and its limiters are shared by all callers of one Client.
type Client struct {
	httpClient *http.Client
	baseURL    *url.URL
	tokens     oauth2.TokenSource
	usage      UsageCounter
	burst      *windowLimiter
	search     *windowLimiter
	maxRetries int

	// Seams for tests.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(d time.Duration) time.Duration

	mu          sync.Mutex
	dailyUntil  time.Time // the daily allowance is spent until then
	owners      map[string]Owner
	ownerMisses map[string]time.Time // email → remembered until
	schema      map[crmsync.ObjectType]map[string]mapping.HubSpotProperty
	// campaignNames caches marketing emails' names by campaign id.
	campaignNames map[int64]string
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
// Auth, when configured, wraps its transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("nil http client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithBaseURL sets the API base URL (default DefaultBaseURL). A path is
// kept as a prefix of every endpoint.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("base url %q is not absolute", raw)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.baseURL = u
		return nil
	}
}

// WithPrivateAppToken authenticates with a private app's access token.
func WithPrivateAppToken(token string) Option {
	return func(c *Client) error {
		if token == "" {
			return errors.New("empty private app token")
		}
		c.tokens = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})
		return nil
	}
}

// WithOAuth2 authenticates as an OAuth app installed in a portal: access
// tokens are refreshed from refreshToken through cfg (use OAuthEndpoint)
// with the client's HTTP client, and reused until they expire.
func WithOAuth2(cfg *oauth2.Config, refreshToken string) Option {
	return func(c *Client) error {
		if cfg == nil || refreshToken == "" {
			return errors.New("oauth2 needs a config and a refresh token")
		}
		// NewClient points the source at the unauthenticated HTTP client.
		c.tokens = &refreshingSource{cfg: cfg, refresh: refreshToken}
		return nil
	}
}

// WithTokenSource authenticates with any token source.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *Client) error {
		if ts == nil {
			return errors.New("nil token source")
		}
		c.tokens = ts
		return nil
	}
}

// WithUsageCounter counts every request sent (retries included).
func WithUsageCounter(u UsageCounter) Option {
	return func(c *Client) error { c.usage = u; return nil }
}

// WithRateLimit sets the burst limit: at most n requests in any window of
// length per (default 110 per 10 s). n <= 0 disables it.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *Client) error { c.burst = newWindowLimiter(n, per); return nil }
}

// WithSearchRateLimit sets the search limit (default 5 per second).
func WithSearchRateLimit(n int, per time.Duration) Option {
	return func(c *Client) error { c.search = newWindowLimiter(n, per); return nil }
}

// WithMaxRetries bounds the retries of one call (default 4).
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("negative retries")
		}
		c.maxRetries = n
		return nil
	}
}

// NewClient returns a client. Without an auth option requests are sent
// unauthenticated (useful only against a simulator).
func NewClient(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		httpClient:  &http.Client{Timeout: 30 * time.Second},
		baseURL:     base,
		burst:       newWindowLimiter(DefaultBurstLimit, DefaultBurstWindow),
		search:      newWindowLimiter(DefaultSearchLimit, time.Second),
		maxRetries:  DefaultMaxRetries,
		now:         time.Now,
		sleep:       sleepCtx,
		jitter:      func(d time.Duration) time.Duration { return d + rand.N(d/2+1) },
		owners:      map[string]Owner{},
		ownerMisses: map[string]time.Time{},
		schema:      map[crmsync.ObjectType]map[string]mapping.HubSpotProperty{},

		campaignNames: map[int64]string{},
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("hubspot: new client: %w", err)
		}
	}
	if c.tokens != nil {
		hc := *c.httpClient
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		if rs, ok := c.tokens.(*refreshingSource); ok {
			plain := *c.httpClient
			rs.client = func() *http.Client { return &plain }
		}
		hc.Transport = &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, c.tokens), Base: base}
		c.httpClient = &hc
	}
	return c, nil
}

// refreshingSource turns a refresh token into access tokens using the
// client's own HTTP client (so tests and proxies apply to it too).
type refreshingSource struct {
	cfg     *oauth2.Config
	refresh string
	client  func() *http.Client
}

func (s *refreshingSource) Token() (*oauth2.Token, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.client())
	tok, err := s.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: s.refresh}).Token()
	if err != nil {
		// oauth2's errors carry the token endpoint's response, never the
		// refresh token; keep only the status and error code.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, &AuthError{Status: re.Response.StatusCode, ErrorCode: re.ErrorCode}
		}
		return nil, &AuthError{}
	}
	return tok, nil
}

// AuthError is a failed refresh of the OAuth access token. It names the
// token endpoint's status and error code only, never a token or secret.
// It is terminal (a person must reconnect the app), except a 5xx.
type AuthError struct {
	Status int
	// ErrorCode is the OAuth error code ("invalid_grant"), when sent.
	ErrorCode string
}

func (e *AuthError) Error() string {
	if e.Status == 0 {
		return "refresh access token failed"
	}
	return strings.TrimSpace(fmt.Sprintf("refresh access token: %d %s", e.Status, e.ErrorCode))
}

// Transient reports whether the token endpoint failed on its side.
func (e *AuthError) Transient() bool { return e.Status >= 500 }

// Category is Permissions: the app's authorisation is broken.
func (e *AuthError) Category() crmsync.Category { return crmsync.CategoryPermissions }

// Code is HubSpot's category for a failed authentication.
func (e *AuthError) Code() string { return "INVALID_AUTHENTICATION" }

var _ crmsync.VendorError = (*AuthError)(nil)

// NetworkError is a request that got no HTTP response (timeout, reset).
// It is transient.
type NetworkError struct {
	Op  string
	Err error
}

func (e *NetworkError) Error() string   { return "hubspot: " + e.Op + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error   { return e.Err }
func (e *NetworkError) Transient() bool { return true }

// call is one API operation.
type call struct {
	op     string
	method string
	path   string // relative to the base URL, no leading slash
	query  url.Values
	body   any
	out    any
	// search selects the search limiter instead of the burst limiter.
	search bool
	// idempotent calls are retried after 5xx and network errors; others
	// only after 429 and 423, which HubSpot answers before doing anything.
	idempotent bool
	// status receives the HTTP status of a success (e.g. 207).
	status *int
}

// do runs c with rate limiting, usage counting and bounded retries.
func (c *Client) do(ctx context.Context, cl call) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("hubspot: %s: encode request: %w", cl.op, err)
		}
	}
	// cl.path is already escaped (ids go through url.PathEscape).
	ref, err := url.Parse(cl.path)
	if err != nil {
		return fmt.Errorf("hubspot: %s: %w", cl.op, err)
	}
	u := c.baseURL.ResolveReference(ref)
	u.RawQuery = cl.query.Encode()
	limiter := c.burst
	if cl.search {
		limiter = c.search
	}
	for attempt := 0; ; attempt++ {
		if err := c.dailySpent(cl.op); err != nil {
			return err
		}
		if err := c.sleep(ctx, limiter.reserve(c.now())); err != nil {
			return fmt.Errorf("hubspot: %s: %w", cl.op, err)
		}
		wait, err := c.attempt(ctx, cl, u, payload, limiter, attempt)
		if wait < 0 || attempt >= c.maxRetries {
			return err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("hubspot: %s: %w", cl.op, err)
		}
	}
}

// attempt sends once. It returns the error and how long to wait before a
// retry (-1: do not retry).
func (c *Client) attempt(ctx context.Context, cl call, u *url.URL, payload []byte, limiter *windowLimiter, n int) (time.Duration, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return -1, fmt.Errorf("hubspot: %s: %w", cl.op, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.usage != nil {
		_ = c.usage.AddAPIUsage(ctx, crmsync.HubSpot, c.now(), 1)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("hubspot: %s: %w", cl.op, ctx.Err())
		}
		var authErr *AuthError
		if errors.As(err, &authErr) {
			return -1, fmt.Errorf("hubspot: %s: %w", cl.op, authErr)
		}
		nerr := &NetworkError{Op: cl.op, Err: stripURL(err)}
		if cl.idempotent {
			return c.jitter(backoff(500*time.Millisecond, n)), nerr
		}
		return -1, nerr
	}
	defer resp.Body.Close()
	c.observeHeaders(resp.Header, limiter)

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if cl.status != nil {
			*cl.status = resp.StatusCode
		}
		if cl.out == nil || resp.StatusCode == http.StatusNoContent {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			return -1, nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(cl.out); err != nil {
			return -1, fmt.Errorf("hubspot: %s: decode response: %w", cl.op, err)
		}
		return -1, nil
	}

	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	apiErr, policy := parseError(cl.op, resp.StatusCode, raw)
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		rl := &RateLimitError{Op: cl.op, Policy: policy, Message: apiErr.Message, CorrelationID: apiErr.CorrelationID, RetryAfter: retryAfter}
		if policy == PolicyDaily {
			if rl.RetryAfter <= 0 {
				rl.RetryAfter = untilUTCMidnight(c.now())
			}
			c.mu.Lock()
			c.dailyUntil = c.now().Add(rl.RetryAfter)
			c.mu.Unlock()
			return -1, rl
		}
		if rl.RetryAfter <= 0 {
			rl.RetryAfter = windowOf(resp.Header)
		}
		limiter.pauseUntil(c.now().Add(rl.RetryAfter))
		return c.jitter(rl.RetryAfter), rl
	case resp.StatusCode == http.StatusLocked:
		return c.jitter(max(backoff(lockedBackoff, n), retryAfter)), apiErr
	case resp.StatusCode >= 500 && cl.idempotent:
		return c.jitter(max(backoff(time.Second, n), retryAfter)), apiErr
	}
	return -1, apiErr
}

// backoff is base doubled per earlier attempt, capped at maxBackoff.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 6)
	return min(d, maxBackoff)
}

// maxBackoff caps one wait between retries.
const maxBackoff = 30 * time.Second

// dailySpent fails fast while the daily allowance is known to be spent.
func (c *Client) dailySpent(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Before(c.dailyUntil) {
		return &RateLimitError{Op: op, Policy: PolicyDaily, RetryAfter: c.dailyUntil.Sub(now),
			Message: "daily limit reached earlier; not sent"}
	}
	return nil
}

// observeHeaders reads X-HubSpot-RateLimit-*: when the ten-second window
// is spent, every later request waits for the window to pass; when the
// daily allowance is spent, later requests fail fast until the reset.
func (c *Client) observeHeaders(h http.Header, limiter *windowLimiter) {
	if n, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining")); err == nil && n <= 0 {
		limiter.pauseUntil(c.now().Add(windowOf(h)))
	}
	if n, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily-Remaining")); err == nil && n <= 0 {
		now := c.now()
		c.mu.Lock()
		c.dailyUntil = now.Add(untilUTCMidnight(now))
		c.mu.Unlock()
	}
}

// windowOf is the limit window HubSpot reports (the ten-second window),
// or one second when it does not say (search responses carry no headers).
func windowOf(h http.Header) time.Duration {
	if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return time.Second
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// untilUTCMidnight is the wait until HubSpot's daily limit resets when it
// does not say: the next UTC midnight (a portal's reset follows its own
// time zone, so this may be early; the next 429 then says again).
func untilUTCMidnight(now time.Time) time.Duration {
	n := now.UTC()
	next := time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, time.UTC)
	return next.Sub(n)
}

// stripURL drops the URL from a *url.Error (it may carry query values).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

type wireError struct {
	Status        string          `json:"status"`
	Message       string          `json:"message"`
	CorrelationID string          `json:"correlationId"`
	Category      string          `json:"category"`
	SubCategory   json.RawMessage `json:"subCategory"`
	Errors        []ErrorDetail   `json:"errors"`
	Context       json.RawMessage `json:"context"`
	PolicyName    string          `json:"policyName"`
	ErrorType     string          `json:"errorType"`
}

func (w *wireError) toAPIError(op string, status int) *APIError {
	e := &APIError{Status: status, Op: op, VendorCategory: w.Category, CorrelationID: w.CorrelationID,
		Message: w.Message, Details: w.Errors}
	var sub string
	if json.Unmarshal(w.SubCategory, &sub) == nil {
		e.SubCategory = sub
	}
	if len(w.Context) > 0 {
		var ctx map[string][]string
		if json.Unmarshal(w.Context, &ctx) == nil {
			e.Context = ctx
		}
	}
	return e
}

// parseError reads an error body; a body that is not HubSpot's JSON (an
// HTML 502 page) becomes the message, shortened.
func parseError(op string, status int, raw []byte) (*APIError, string) {
	var w wireError
	if err := json.Unmarshal(raw, &w); err != nil {
		return &APIError{Status: status, Op: op, Message: truncate(strings.TrimSpace(string(raw)), 200)}, ""
	}
	e := w.toAPIError(op, status)
	if e.VendorCategory == "" && w.ErrorType != "" {
		e.VendorCategory = w.ErrorType
	}
	return e, w.PolicyName
}
