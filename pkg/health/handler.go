package health

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// Handler serves the Sync Health pages and their JSON:
//
//	GET  /health                     the page (HTML)
//	GET  /health.json                the same report as JSON
//	GET  /health/card?card=K[&page=T][&format=json|csv]
//	                                 one error card's records, paged (CSV: all of them)
//	POST /health/card/resync         card=K: resync every record of the card
//	GET  /health/record?side=S&object=O&id=I[&format=json]
//	                                 the per-record sync card
//	POST /health/record/resync       side, object, id: resync one record
//	POST /health/allocation          allocation, version: set the Salesforce allocation
//	POST /health/login               token: sign in (only when Token is set)
//
// Who may call: with Token set, requests carrying it as a bearer token
// (Authorization: Bearer …) or the cookie POST /health/login sets; others
// get 401 (an HTML sign-in form, or JSON for .json and format=json).
// Without Token, loopback callers only (403 otherwise) — the local stack.
// Cross-origin POSTs are refused (net/http's CrossOriginProtection), so
// another site cannot press the buttons through a signed-in browser.
//
// Errors answer 400 for bad input, 404 for an unknown path, 409 when the
// settings changed since the page was loaded, 503 when the store or queue
// failed transiently, else 500.
type Handler struct {
	Store Store
	Queue Queue
	// DeadLetters is the trigger queue's dead-letter queue (nil: unknown,
	// and the page says so).
	DeadLetters StatsReader
	// Settings returns the settings in force: the stored ones, else the
	// defaults (engine.(*Engine).Settings).
	Settings func(ctx context.Context) (crmsync.Settings, error)
	// Sweeps holds the last sweep where this process runs it (nil: not
	// recorded here, and the page says so).
	Sweeps *SweepLog
	// Budget reports what the API budget holds back where this process
	// runs the engine (engine.Engine.Budget; nil: the worker knows, and
	// the page says so).
	Budget     func() engine.BudgetState
	Connection Connection
	// Token is the bearer token callers must present ("" = loopback only).
	Token  string
	Now    func() time.Time
	Logger *slog.Logger

	once sync.Once
	h    http.Handler
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	h.h.ServeHTTP(w, r)
}

func (h *Handler) init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/health", http.StatusFound)
	})
	mux.HandleFunc("GET /health", h.servePage)
	mux.HandleFunc("GET /health.json", h.serveJSON)
	mux.HandleFunc("GET /health/card", h.serveCard)
	mux.HandleFunc("POST /health/card/resync", h.resyncCard)
	mux.HandleFunc("GET /health/record", h.serveRecord)
	mux.HandleFunc("POST /health/record/resync", h.resyncRecord)
	mux.HandleFunc("POST /health/allocation", h.setAllocation)
	authed := h.authenticate(mux)
	outer := http.NewServeMux()
	outer.HandleFunc("POST /health/login", h.login)
	outer.Handle("/", authed)
	h.h = http.NewCrossOriginProtection().Handler(outer)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// sessionCookie is the cookie POST /health/login sets: an HMAC of a fixed
// label under the token, so the cookie is not the token and rotating the
// token ends every session.
const sessionCookie = "crmsync_health"

func sessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("crmsync sync-health session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// equal compares secrets in constant time (also for unequal lengths:
// both sides are hashed first).
func equal(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

type whoKey struct{}

// authenticate lets through the requests Token (or loopback) allows and
// puts who made them in the context.
func (h *Handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var who string
		if h.Token == "" {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				h.fail(w, r, http.StatusForbidden, errors.New("the local Sync Health pages answer loopback callers only"))
				return
			}
			who = "local operator at " + host
		} else {
			bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			c, err := r.Cookie(sessionCookie)
			switch {
			case ok && equal(strings.TrimSpace(bearer), h.Token):
				who = "bearer token"
			case err == nil && equal(c.Value, sessionValue(h.Token)):
				who = "signed-in browser"
			default:
				h.unauthorized(w, r, "")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, who)))
	})
}

func whoOf(r *http.Request) string {
	who, _ := r.Context().Value(whoKey{}).(string)
	return who
}

// unauthorized answers 401: JSON to JSON clients, else the sign-in form.
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="crmsync sync health"`)
	if wantsJSON(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
		return
	}
	h.render(w, http.StatusUnauthorized, "login", pageData{Title: "Sign in", Message: msg})
}

// login checks the posted token and sets the session cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.Token == "" {
		http.Error(w, "no sign-in here: the local pages need none", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if !equal(r.PostFormValue("token"), h.Token) {
		h.unauthorized(w, r, "That token is not the one in the stack's Secrets Manager secret.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sessionValue(h.Token), Path: "/",
		MaxAge: 12 * 3600, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/health", http.StatusSeeOther)
}

func wantsJSON(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, ".json") || r.URL.Query().Get("format") == "json"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away; nothing to do
}

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, crmsync.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, crmsync.ErrVersionConflict):
		return http.StatusConflict
	case crmsync.IsTransient(err):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers err with status (logged when it is the server's fault).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		h.logger().ErrorContext(r.Context(), "sync health request failed", "path", r.URL.Path, "error", err)
	}
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	h.render(w, status, "message", pageData{Title: http.StatusText(status), Message: err.Error()})
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Build(r.Context())
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.render(w, http.StatusOK, "index", pageData{Title: "Sync Health", Report: &rep,
		Chart: newChart(rep.Usage.SalesforceHours, rep.Usage.SalesforceAllocation), Notice: notice(r)})
}

func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Build(r.Context())
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (h *Handler) serveCard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := findCard(CardKey(q.Get("card")))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err)
		return
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "crmsync-"+string(d.Key)+".csv"))
		if err := writeCardCSV(r.Context(), w, h.Store, d); err != nil {
			// The header is sent; the truncated file ends with the error.
			h.logger().ErrorContext(r.Context(), "card export failed", "card", d.Key, "error", err)
			fmt.Fprintf(w, "\n# export failed: %v\n", err)
		}
		return
	}
	recs, next, err := listCard(r.Context(), h.Store, d, q.Get("page"), cardPageSize)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	p := CardPage{Card: Card{Key: d.Key, Title: d.Title, Category: d.Category, Reason: d.Reason, Hint: d.Hint},
		Records: recs, Next: next}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, p)
		return
	}
	h.render(w, http.StatusOK, "card", pageData{Title: d.Title, Card: &p, First: q.Get("page") == "", Notice: notice(r)})
}

func (h *Handler) resyncCard(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	d, err := findCard(CardKey(r.PostFormValue("card")))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	now := h.now()
	var ts []crmsync.Trigger
	if err := eachCardError(r.Context(), h.Store, d, func(e crmsync.SyncError) error {
		ts = append(ts, errorResyncTrigger(e.Record, now))
		return nil
	}); err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	done, err := send(r.Context(), h.Queue, ts)
	h.logResync(r, done, err)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	http.Redirect(w, r, "/health/card?"+url.Values{"card": {string(d.Key)}, "notice": {"resynced"},
		"n": {strconv.Itoa(len(done))}}.Encode(), http.StatusSeeOther)
}

// refOf reads side, object and id from form or query values.
func refOf(v url.Values) (crmsync.RecordRef, error) {
	ref := crmsync.RecordRef{Side: crmsync.Side(strings.ToLower(strings.TrimSpace(v.Get("side")))),
		ID: strings.TrimSpace(v.Get("id"))}
	object := strings.TrimSpace(v.Get("object"))
	for _, o := range crmsync.ObjectTypes(ref.Side) {
		if strings.EqualFold(string(o), object) {
			ref.Object = o
		}
	}
	if ref.Object == "" {
		return ref, fmt.Errorf("%w: unknown %s object %q", crmsync.ErrInvalid, ref.Side, object)
	}
	if err := ref.Validate(); err != nil {
		return ref, err
	}
	return ref, nil
}

// recordURL is the record page of ref.
func recordURL(ref crmsync.RecordRef) string {
	return "/health/record?" + url.Values{"side": {string(ref.Side)}, "object": {string(ref.Object)}, "id": {ref.ID}}.Encode()
}

func (h *Handler) serveRecord(w http.ResponseWriter, r *http.Request) {
	ref, err := refOf(r.URL.Query())
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	c, err := BuildRecordCard(r.Context(), h.Store, ref)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, c)
		return
	}
	h.render(w, http.StatusOK, "record", pageData{Title: ref.String(), Record: &c, Notice: notice(r)})
}

func (h *Handler) resyncRecord(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	ref, err := refOf(r.PostForm)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	done, err := send(r.Context(), h.Queue, []crmsync.Trigger{ResyncTrigger(ref, h.now())})
	h.logResync(r, done, err)
	if err != nil {
		h.fail(w, r, statusOf(err), err)
		return
	}
	http.Redirect(w, r, recordURL(ref)+"&notice=resynced&n=1", http.StatusSeeOther)
}

func (h *Handler) logResync(r *http.Request, done []crmsync.RecordRef, err error) {
	for _, ref := range done {
		h.logger().InfoContext(r.Context(), "manual resync enqueued", "side", ref.Side, "object", ref.Object,
			"record_id", ref.ID, "by", whoOf(r), "from", "sync-health")
	}
	if err != nil {
		h.logger().WarnContext(r.Context(), "manual resync not enqueued", "error", err, "by", whoOf(r))
	}
}

func (h *Handler) setAllocation(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	limit, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("allocation"), ",", "")))
	if err != nil || limit < 0 {
		h.fail(w, r, http.StatusBadRequest, fmt.Errorf("%w: the allocation must be a whole number of calls, 0 or more", crmsync.ErrInvalid))
		return
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, fmt.Errorf("%w: the form has no settings version; reload the page", crmsync.ErrInvalid))
		return
	}
	if _, err := h.SetAllocation(r.Context(), limit, version, whoOf(r)); err != nil {
		if errors.Is(err, crmsync.ErrVersionConflict) {
			err = fmt.Errorf("the settings changed since this page was loaded, so nothing was saved: reload it and enter the number again (%w)", err)
		}
		h.fail(w, r, statusOf(err), err)
		return
	}
	h.logger().InfoContext(r.Context(), "salesforce api allocation set", "allocation", limit, "by", whoOf(r))
	http.Redirect(w, r, "/health?notice=allocation-saved#usage", http.StatusSeeOther)
}

// notice is the message a redirect after a POST asked for: fixed texts,
// never text from the request.
func notice(r *http.Request) string {
	q := r.URL.Query()
	switch q.Get("notice") {
	case "resynced":
		n, _ := strconv.Atoi(q.Get("n"))
		if n == 0 {
			return "Nothing to resync: no record is on this card."
		}
		return fmt.Sprintf("Resync enqueued for %d record%s. The worker syncs %s within seconds; reload to see the result.",
			n, plural(n), map[bool]string{true: "it", false: "them"}[n == 1])
	case "allocation-saved":
		return "Salesforce API allocation saved."
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
