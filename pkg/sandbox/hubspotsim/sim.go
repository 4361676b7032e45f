package hubspotsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// Config configures a Portal. The zero value is usable: no auth, no
// limits, no webhooks, no faults.
type Config struct {
	// PortalID and AppID are sent in webhooks (defaults 62515 and
	// 1160452). AppID is also the sourceId of changes made through the
	// API, so the engine can recognise its own writes.
	PortalID int64
	AppID    int64
	// Token, when set, is the bearer token every API call must carry
	// (401 otherwise). Admin calls need none.
	Token string
	// Apps maps other bearer tokens to the ids of the apps that own them:
	// a change made with such a token has that app as its sourceId (other
	// tokens' changes are AppID's, crmsync's own). With Token set, a call
	// with an Apps token is accepted too.
	Apps map[string]int64
	// BurstLimit requests per BurstWindow (0 = unlimited); HubSpot's OAuth
	// apps get 110 per 10 s. SearchLimit searches per second (0 =
	// unlimited; HubSpot: 5). DailyLimit calls per UTC day (0 = unlimited).
	BurstLimit  int
	BurstWindow time.Duration
	SearchLimit int
	DailyLimit  int
	// Webhook, when its URL is set, receives signed v3 deliveries of
	// every change.
	Webhook WebhookConfig
	// Seed seeds fault injection, tie order in search and webhook
	// reordering.
	Seed uint64
	// Now is the portal's clock (default time.Now).
	Now func() time.Time
}

// Faults are injected into API calls (never admin calls) and webhook
// deliveries at the given rates (0–1), drawn from the seeded source.
type Faults struct {
	// ServerError answers 502/503 with an HTML or JSON body.
	ServerError float64
	// RateLimit answers 429 TEN_SECONDLY_ROLLING.
	RateLimit float64
	// Timeout holds the request until the client gives up (or 30 s).
	Timeout float64
	// Locked answers a write (not a GET) 423 Locked, as HubSpot does when
	// too many requests change one object at once.
	Locked float64
	// Latency delays every API call (real time).
	Latency time.Duration
	// DuplicateWebhook sends a delivery twice; ReorderWebhook shuffles
	// the events inside a delivery.
	DuplicateWebhook float64
	ReorderWebhook   float64
}

// Portal is a HubSpot portal in a box: an http.Handler serving the CRM
// API subset crmsync uses, plus admin endpoints under /_admin/.
type Portal struct {
	cfg Config
	mux *http.ServeMux

	mu        sync.Mutex
	rng       *rand.Rand
	faults    Faults
	objects   map[crmsync.ObjectType]map[string]*record
	nextID    int64
	assocs    map[assocKey]map[string]map[string][]hubspot.AssociationLabel // from id → to id → labels
	owners    []*owner
	users     []*user
	nextUser  int64
	lists     map[string]map[string]time.Time // list id → record key → added
	listMeta  map[string]*listInfo            // list id → the list itself
	nextList  int64
	burst     []time.Time
	searches  []time.Time
	day       string
	dayCount  int
	calls     int
	hooks     *webhookQueue
	eventID   int64
	propsMeta map[crmsync.ObjectType][]hubspot.Property

	forms        []*form                  // in creation order
	formSeq      int64                    // orders forms for paging
	submissions  map[string][]*Submission // form id → submissions as made
	emailEvents  []*EmailEvent            // as recorded
	campaigns    map[int64]*EmailCampaign // email campaign id → campaign
	nextCampaign int64
}

type assocKey struct{ from, to crmsync.ObjectType }

// New returns a portal.
func New(cfg Config) *Portal {
	if cfg.PortalID == 0 {
		cfg.PortalID = 62515
	}
	if cfg.AppID == 0 {
		cfg.AppID = 1160452
	}
	if cfg.BurstWindow == 0 {
		cfg.BurstWindow = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Portal{
		cfg:       cfg,
		mux:       http.NewServeMux(),
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		objects:   map[crmsync.ObjectType]map[string]*record{},
		nextID:    2147483600, // ids soon cross 2^31, as real portals' do
		assocs:    map[assocKey]map[string]map[string][]hubspot.AssociationLabel{},
		lists:     map[string]map[string]time.Time{},
		listMeta:  map[string]*listInfo{},
		nextList:  100,
		eventID:   3816279000,
		nextUser:  9586500,
		propsMeta: defaultProperties(),

		submissions:  map[string][]*Submission{},
		campaigns:    map[int64]*EmailCampaign{},
		nextCampaign: 412660000,
	}
	p.hooks = newWebhookQueue(p)
	p.routes()
	return p
}

// SetFaults replaces the fault rates.
func (p *Portal) SetFaults(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
}

// Calls returns how many API calls the portal has answered (admin calls
// excluded), rejected ones included.
func (p *Portal) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// ServeHTTP serves the API. A request no route takes is answered in
// HubSpot's JSON error shape ({status, message, correlationId, category}),
// as HubSpot's API gateway does, not Go's plain-text 404/405: the vendors'
// clients parse every error body as JSON when the content type says so.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := p.mux.Handler(r); pattern != "" {
		p.mux.ServeHTTP(w, r)
		return
	}
	// No pattern: the mux would answer 404, or 405 with Allow when the
	// path exists for other methods. Keep its status and Allow header.
	rec := &statusRecorder{header: http.Header{}}
	p.mux.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch rec.status {
	case http.StatusMethodNotAllowed:
		writeError(w, http.StatusMethodNotAllowed, "VALIDATION_ERROR", "Method "+r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+rec.header.Get("Allow"), nil)
	default:
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Unable to route "+r.Method+" request to "+r.URL.Path, nil)
	}
}

// statusRecorder keeps the status and headers of the mux's own error
// answers and drops their plain-text bodies.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

// otherApp reports whether r carries the token of one of Config.Apps.
func (p *Portal) otherApp(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	_, known := p.cfg.Apps[token]
	return ok && known
}

// api wraps an API handler with auth, limits and faults.
func (p *Portal) api(search bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p.cfg.Token != "" && r.Header.Get("Authorization") != "Bearer "+p.cfg.Token && !p.otherApp(r) {
			writeError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication.", nil)
			return
		}
		p.mu.Lock()
		p.calls++
		f := p.faults
		draw := p.rng.Float64()
		status, policy, headers := p.limit(search)
		p.mu.Unlock()
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if status == http.StatusTooManyRequests {
			writeRateLimit(w, policy)
			return
		}
		switch {
		case draw < f.RateLimit:
			writeRateLimit(w, hubspot.PolicyTenSecondly)
			return
		case draw < f.RateLimit+f.ServerError:
			if int(draw*1000)%2 == 0 {
				http.Error(w, "<html><body><h1>502 Bad Gateway</h1></body></html>", http.StatusBadGateway)
			} else {
				writeError(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable.", nil)
			}
			return
		case draw < f.RateLimit+f.ServerError+f.Timeout:
			// Reading the body lets the server notice the client leaving
			// (and cancel r.Context()).
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		case draw < f.RateLimit+f.ServerError+f.Timeout+f.Locked && r.Method != http.MethodGet:
			writeError(w, http.StatusLocked, "LOCKED", "Too many requests are modifying this object at the same time; try again shortly.", nil)
			return
		}
		h(w, r)
	}
}

// limit counts a call against the windows; p.mu is held. It returns 429
// and the policy when a window is spent, and the rate-limit headers.
func (p *Portal) limit(search bool) (int, string, map[string]string) {
	now := p.cfg.Now()
	headers := map[string]string{}
	if day := now.UTC().Format("2006-01-02"); day != p.day {
		p.day, p.dayCount = day, 0
	}
	p.dayCount++
	if p.cfg.DailyLimit > 0 {
		headers["X-HubSpot-RateLimit-Daily"] = strconv.Itoa(p.cfg.DailyLimit)
		headers["X-HubSpot-RateLimit-Daily-Remaining"] = strconv.Itoa(max(0, p.cfg.DailyLimit-p.dayCount))
		if p.dayCount > p.cfg.DailyLimit {
			return http.StatusTooManyRequests, hubspot.PolicyDaily, headers
		}
	}
	if search {
		// Search answers carry no rate-limit headers, as HubSpot's do not.
		if p.cfg.SearchLimit > 0 {
			p.searches = window(p.searches, now, time.Second)
			if len(p.searches) >= p.cfg.SearchLimit {
				return http.StatusTooManyRequests, hubspot.PolicySecondly, nil
			}
			p.searches = append(p.searches, now)
		}
		return 0, "", nil
	}
	if p.cfg.BurstLimit > 0 {
		p.burst = window(p.burst, now, p.cfg.BurstWindow)
		over := len(p.burst) >= p.cfg.BurstLimit
		if !over {
			p.burst = append(p.burst, now)
		}
		headers["X-HubSpot-RateLimit-Max"] = strconv.Itoa(p.cfg.BurstLimit)
		headers["X-HubSpot-RateLimit-Remaining"] = strconv.Itoa(max(0, p.cfg.BurstLimit-len(p.burst)))
		headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = strconv.FormatInt(p.cfg.BurstWindow.Milliseconds(), 10)
		if over {
			return http.StatusTooManyRequests, hubspot.PolicyTenSecondly, headers
		}
	}
	return 0, "", headers
}

func window(ts []time.Time, now time.Time, per time.Duration) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].Add(per).After(now) {
		i++
	}
	return ts[i:]
}

func newCorrelationID(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
}

var correlationMu sync.Mutex
var correlationRng = rand.New(rand.NewPCG(7, 11))

func correlationID() string {
	correlationMu.Lock()
	defer correlationMu.Unlock()
	return newCorrelationID(correlationRng)
}

// apiError is HubSpot's error body.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
}

type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

func newAPIError(category, message string, ctx map[string][]string) *apiError {
	return &apiError{Status: "error", Message: message, CorrelationID: correlationID(), Category: category, Context: ctx}
}

func writeError(w http.ResponseWriter, status int, category, message string, ctx map[string][]string) {
	writeJSON(w, status, newAPIError(category, message, ctx))
}

func writeRateLimit(w http.ResponseWriter, policy string) {
	msg := "You have reached your " + strings.ToLower(policy) + " limit."
	if policy == hubspot.PolicyDaily {
		msg = "You have reached your daily limit."
	} else {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"status": "error", "message": msg, "errorType": "RATE_LIMIT",
		"correlationId": correlationID(), "policyName": policy, "groupName": "publicapi:sandbox"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error(), nil)
		return false
	}
	return true
}
