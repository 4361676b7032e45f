package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/health"
)

// Admin is the local stack's operator endpoint, served on the receivers'
// port under /_crmsync/ (a loopback address by default, like the
// receivers; the deployed stack has no such route). The CLI calls it
// (through AdminClient) because the running stack holds the bbolt file and
// its in-process queue, so no other process can reach either.
//
//	POST /_crmsync/resync         {"side":"hubspot","object":"contact","id":"101"}
//	POST /_crmsync/resync-errors  {"category":"Duplicates"}   (category optional: every errored record)
//	POST /_crmsync/resync-list    {"list_id":"42","after":"","limit":100}   one page of a HubSpot list
//	POST /_crmsync/redrive        {"since":"…","until":"…"}   (both optional)
//	GET  /_crmsync/settings       the settings in force;  PUT stores new ones (JSON crmsync.Settings)
//	GET  /_crmsync/errors?category=C&limit=N      an ErrorsReport
//	GET  /_crmsync/explain?side=S&object=O&id=I&limit=N   an Explanation
//	GET  /_crmsync/info           which data file the stack holds
//	POST /_crmsync/backfill       {"size":200,"restart":false}   the backfill's next page (a backfill.Progress)
//	POST /_crmsync/backfill-plan  {"size":200}   the backfill's dry run (an engine.BulkPlan)
//	POST /_crmsync/resync-plan    a ResyncPlanRequest: a resync's dry run (an engine.BulkPlan)
//
// The resync routes enqueue KindManualResync triggers and answer 202 with
// what was enqueued, as ResyncResponse (ResyncListResponse). Every route
// answers 400 when the input is malformed or names an unknown side, object
// type or category; 403 for a caller not on a loopback address; 404 for
// an unknown route; 405 for another method; 409 for settings stored since
// the ones put were read; 501 for what the stack cannot do (no HubSpot
// lists, a queue without dead letters); 503 when the queue or store failed
// transiently and 500 when it failed otherwise (then nothing, or only the
// triggers listed, were enqueued). Failures carry {"error": "…"}.
type Admin struct {
	// Queue receives the triggers; Store lists the sync errors for
	// resync-errors and serves settings, errors and explain.
	Queue crmsync.Queue
	Store crmsync.Store
	// Lists reads HubSpot list members for resync-list (nil: 501).
	Lists ListMembers
	// Redrive moves dead-lettered triggers back onto Queue (nil: 501);
	// localqueue's (*Queue).Redrive.
	Redrive func(ctx context.Context, since, until time.Time) (int, error)
	// Preview answers "will this record sync, and why (not)" with nothing
	// applied (engine.Engine.Preview; nil: 501).
	Preview func(ctx context.Context, ref crmsync.RecordRef) (engine.Preview, error)
	// Plan previews a settings change on every linked pair
	// (engine.Engine.PlanSettings; nil: 501).
	Plan func(ctx context.Context, proposed crmsync.Settings, batchSize int) (engine.SettingsPlan, error)
	// Backfill runs the next page of the backfill and PlanBackfill its
	// dry run, with pages of size records (nil: 501).
	Backfill     func(ctx context.Context, req BackfillRequest) (backfill.Progress, error)
	PlanBackfill func(ctx context.Context, size int) (*engine.BulkPlan, error)
	// PlanResync dry-runs resyncing the triggers in the worker's batches
	// (engine.Engine.PlanTriggers; nil: 501).
	PlanResync func(ctx context.Context, ts []crmsync.Trigger, batchSize int) (*engine.BulkPlan, error)
	// DataFile is the bbolt file the stack holds ("" when none), for the
	// CLI to tell that it reached the stack holding its file.
	DataFile string
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// ListMembers pages through a HubSpot list; *hubspot.Client implements it.
type ListMembers interface {
	// ListMembers returns up to limit record ids of the list after the
	// cursor after, and the next cursor ("" at the end). Errors are the
	// client's (*hubspot.APIError: 404 for an unknown list, …).
	ListMembers(ctx context.Context, listID, after string, limit int) ([]string, string, error)
}

// AdminPath is the prefix Admin is served under.
const AdminPath = "/_crmsync/"

// maxAdminBody caps an admin request body.
const maxAdminBody = 64 << 10

// ResyncRequest is the body of POST /_crmsync/resync (Side, Object, ID) and
// of POST /_crmsync/resync-errors (Category, optional).
type ResyncRequest struct {
	Side     crmsync.Side       `json:"side,omitempty"`
	Object   crmsync.ObjectType `json:"object,omitempty"`
	ID       string             `json:"id,omitempty"`
	Category crmsync.Category   `json:"category,omitempty"`
}

// ResyncResponse is the body of every answer: what was enqueued, and on
// failure why (a failed Send may still have enqueued some triggers).
type ResyncResponse struct {
	Enqueued []Enqueued `json:"enqueued"`
	Error    string     `json:"error,omitempty"`
}

// Enqueued is one trigger an admin call enqueued.
type Enqueued struct {
	Record    crmsync.RecordRef `json:"record"`
	DedupeKey string            `json:"dedupe_key"`
}

// ResyncListRequest is the body of POST /_crmsync/resync-list: one page
// of the members of HubSpot list ListID (records of type Object, contact
// when empty), after the cursor After, at most Limit (default 100).
type ResyncListRequest struct {
	ListID string             `json:"list_id"`
	Object crmsync.ObjectType `json:"object,omitempty"`
	After  string             `json:"after,omitempty"`
	Limit  int                `json:"limit,omitempty"`
}

// ResyncListResponse is what one page enqueued and the cursor of the next
// ("" after the last page).
type ResyncListResponse struct {
	Enqueued []Enqueued `json:"enqueued"`
	Next     string     `json:"next,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// RedriveRequest is the body of POST /_crmsync/redrive: the dead-letter
// time range (zero = unbounded).
type RedriveRequest struct {
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// RedriveResponse says how many triggers went back onto the queue.
type RedriveResponse struct {
	Moved int    `json:"moved"`
	Error string `json:"error,omitempty"`
}

// Info is the answer of GET /_crmsync/info.
type Info struct {
	// DataFile is the absolute path of the bbolt file the stack holds.
	DataFile string `json:"data_file"`
}

type adminError struct {
	Error string `json:"error"`
}

// ServeHTTP implements http.Handler.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, methods := a.route(r.URL.Path)
	if route == nil {
		writeJSON(w, http.StatusNotFound, ResyncResponse{Enqueued: []Enqueued{}, Error: "no such admin route " + r.URL.Path})
		return
	}
	if !fromLoopback(r) {
		// The receivers may listen on a public address (-addr); the admin
		// routes answer only this machine.
		writeJSON(w, http.StatusForbidden, ResyncResponse{Enqueued: []Enqueued{}, Error: "admin routes answer loopback callers only"})
		return
	}
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, ResyncResponse{Enqueued: []Enqueued{}, Error: "use " + strings.Join(methods, " or ")})
		return
	}
	route(w, r)
}

// route returns the handler of path and the methods it takes.
func (a *Admin) route(path string) (http.HandlerFunc, []string) {
	get, post := []string{http.MethodGet}, []string{http.MethodPost}
	switch path {
	case AdminPath + "resync":
		return a.resync(func(_ context.Context, req ResyncRequest, now time.Time) ([]crmsync.Trigger, error) {
			ref := crmsync.RecordRef{Side: req.Side, Object: req.Object, ID: req.ID}
			if err := ref.Validate(); err != nil {
				return nil, err
			}
			return []crmsync.Trigger{health.ResyncTrigger(ref, now)}, nil
		}), post
	case AdminPath + "resync-errors":
		return a.resync(func(ctx context.Context, req ResyncRequest, now time.Time) ([]crmsync.Trigger, error) {
			if a.Store == nil {
				return nil, errors.New("resync errors: the stack has no store")
			}
			return health.ResyncErrorTriggers(ctx, a.Store, req.Category, now)
		}), post
	case AdminPath + "resync-list":
		return a.resyncList, post
	case AdminPath + "redrive":
		return a.redrive, post
	case AdminPath + "settings":
		return a.settings, []string{http.MethodGet, http.MethodPut}
	case AdminPath + "errors":
		return a.errors, get
	case AdminPath + "explain":
		return a.explain, get
	case AdminPath + "preview":
		return a.preview, get
	case AdminPath + "plan":
		return a.plan, post
	case AdminPath + "backfill":
		return serveCall(a.Backfill, "this stack cannot backfill"), post
	case AdminPath + "backfill-plan":
		var plan func(ctx context.Context, req BackfillRequest) (*engine.BulkPlan, error)
		if a.PlanBackfill != nil {
			plan = func(ctx context.Context, req BackfillRequest) (*engine.BulkPlan, error) {
				return a.PlanBackfill(ctx, req.Size)
			}
		}
		return serveCall(plan, "this stack cannot plan a backfill"), post
	case AdminPath + "resync-plan":
		return serveCall(a.planResync(), "this stack cannot plan a resync"), post
	case AdminPath + "info":
		return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, Info{DataFile: a.DataFile}) }, get
	}
	return nil, nil
}

// decodeBody reads a JSON body of at most maxAdminBody into v (an empty
// body leaves v as it is), answering the failure itself.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ResyncResponse{Enqueued: []Enqueued{}, Error: "read body: " + err.Error()})
		return false
	}
	if len(body) > maxAdminBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, ResyncResponse{Enqueued: []Enqueued{}, Error: "body too large"})
		return false
	}
	if len(body) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, ResyncResponse{Enqueued: []Enqueued{}, Error: "malformed JSON: " + err.Error()})
		return false
	}
	return true
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// resync serves a route that enqueues the triggers triggers returns.
func (a *Admin) resync(triggers func(ctx context.Context, req ResyncRequest, now time.Time) ([]crmsync.Trigger, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req ResyncRequest
		if !decodeBody(w, r, &req) {
			return
		}
		ts, err := triggers(r.Context(), req, a.now())
		if err != nil {
			a.fail(w, r, nil, err)
			return
		}
		enqueued, err := a.enqueue(r.Context(), ts)
		if err != nil {
			a.fail(w, r, enqueued, err)
			return
		}
		writeJSON(w, http.StatusAccepted, ResyncResponse{Enqueued: enqueued})
	}
}

// enqueue sends ts and returns those enqueued; on a partial failure the
// error says how many of how many.
func (a *Admin) enqueue(ctx context.Context, ts []crmsync.Trigger) ([]Enqueued, error) {
	enqueued := []Enqueued{}
	var sendErr error
	if len(ts) > 0 {
		sendErr = a.Queue.Send(ctx, ts)
	}
	var se *crmsync.SendError
	if sendErr != nil && !errors.As(sendErr, &se) {
		return enqueued, fmt.Errorf("enqueue: %w", sendErr)
	}
	for i, t := range ts {
		if se != nil && se.Failed[i] != nil {
			continue
		}
		enqueued = append(enqueued, Enqueued{Record: t.Record, DedupeKey: t.DedupeKey})
		a.logger().InfoContext(ctx, "manual resync enqueued", "side", t.Record.Side,
			"object", t.Record.Object, "record_id", t.Record.ID, "dedupe_key", t.DedupeKey)
	}
	if se != nil {
		// Some were enqueued: say which, and fail the call so the caller
		// sees that others were not.
		return enqueued, fmt.Errorf("enqueue: %w (enqueued %d of %d)", se, len(enqueued), len(ts))
	}
	return enqueued, nil
}

// ResyncListTriggers returns a manual-resync trigger for each HubSpot
// record id of a list page.
func ResyncListTriggers(object crmsync.ObjectType, ids []string, now time.Time) ([]crmsync.Trigger, error) {
	out := make([]crmsync.Trigger, 0, len(ids))
	for _, id := range ids {
		ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: object, ID: id}
		if err := ref.Validate(); err != nil {
			return nil, err
		}
		t := health.ResyncTrigger(ref, now)
		t.DeliveryID = crmsync.DeliveryResyncList
		out = append(out, t)
	}
	return out, nil
}

func (a *Admin) resyncList(w http.ResponseWriter, r *http.Request) {
	var req ResyncListRequest
	if !decodeBody(w, r, &req) {
		return
	}
	fail := func(status int, enqueued []Enqueued, err error) {
		if enqueued == nil {
			enqueued = []Enqueued{}
		}
		writeJSON(w, status, ResyncListResponse{Enqueued: enqueued, Error: err.Error()})
	}
	if a.Lists == nil {
		fail(http.StatusNotImplemented, nil, errors.New("this stack reads no HubSpot lists"))
		return
	}
	if req.ListID == "" {
		fail(http.StatusBadRequest, nil, errors.New("list_id is empty"))
		return
	}
	if req.Object == "" {
		req.Object = crmsync.HSContact
	}
	if req.Limit <= 0 {
		req.Limit = 100
	}
	ids, next, err := a.Lists.ListMembers(r.Context(), req.ListID, req.After, req.Limit)
	if err != nil {
		fail(statusOf(err), nil, fmt.Errorf("read list %s: %w", req.ListID, err))
		return
	}
	ts, err := ResyncListTriggers(req.Object, ids, a.now())
	if err != nil {
		fail(http.StatusBadRequest, nil, err)
		return
	}
	enqueued, err := a.enqueue(r.Context(), ts)
	if err != nil {
		fail(statusOf(err), enqueued, err)
		return
	}
	writeJSON(w, http.StatusAccepted, ResyncListResponse{Enqueued: enqueued, Next: next})
}

func (a *Admin) redrive(w http.ResponseWriter, r *http.Request) {
	var req RedriveRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if a.Redrive == nil {
		writeJSON(w, http.StatusNotImplemented, RedriveResponse{Error: "this stack's queue keeps no dead letters"})
		return
	}
	n, err := a.Redrive(r.Context(), req.Since, req.Until)
	if err != nil {
		a.logger().ErrorContext(r.Context(), "redrive failed", "moved", n, "error", err)
		writeJSON(w, statusOf(err), RedriveResponse{Moved: n, Error: err.Error()})
		return
	}
	a.logger().InfoContext(r.Context(), "redrive", "moved", n)
	writeJSON(w, http.StatusOK, RedriveResponse{Moved: n})
}

func (a *Admin) settings(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		var s crmsync.Settings
		if !decodeBody(w, r, &s) {
			return
		}
		stored, err := a.Store.PutSettings(r.Context(), s)
		if err != nil {
			writeJSON(w, statusOf(err), adminError{Error: err.Error()})
			return
		}
		a.logger().InfoContext(r.Context(), "settings stored", "version", stored.Version)
		writeJSON(w, http.StatusOK, stored)
		return
	}
	s, err := engine.LoadSettings(r.Context(), a.Store)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *Admin) errors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, adminError{Error: err.Error()})
		return
	}
	rep, err := ListErrors(r.Context(), a.Store, crmsync.Category(q.Get("category")), limit)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *Admin) explain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, adminError{Error: err.Error()})
		return
	}
	ref := crmsync.RecordRef{Side: crmsync.Side(q.Get("side")), Object: crmsync.ObjectType(q.Get("object")), ID: q.Get("id")}
	x, err := Explain(r.Context(), a.Store, ref, limit)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// PlanRequest is the body of POST plan.
type PlanRequest struct {
	Settings  crmsync.Settings `json:"settings"`
	BatchSize int              `json:"batch_size,omitempty"`
}

func (a *Admin) plan(w http.ResponseWriter, r *http.Request) {
	if a.Plan == nil {
		writeJSON(w, http.StatusNotImplemented, adminError{Error: "this stack cannot plan"})
		return
	}
	var req PlanRequest
	if !decodeBody(w, r, &req) {
		return
	}
	p, err := a.Plan(r.Context(), req.Settings, req.BatchSize)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *Admin) preview(w http.ResponseWriter, r *http.Request) {
	if a.Preview == nil {
		writeJSON(w, http.StatusNotImplemented, adminError{Error: "this stack cannot preview"})
		return
	}
	q := r.URL.Query()
	ref := crmsync.RecordRef{Side: crmsync.Side(q.Get("side")), Object: crmsync.ObjectType(q.Get("object")), ID: q.Get("id")}
	p, err := a.Preview(r.Context(), ref)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func queryInt(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number", crmsync.ErrInvalid, v)
	}
	return n, nil
}

// statusOf is the answer's status for err: 400 for bad input, 404 not
// found, 409 a version conflict, 503 when transient, else 500.
func statusOf(err error) int {
	switch {
	case errors.Is(err, crmsync.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, crmsync.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, crmsync.ErrVersionConflict):
		return http.StatusConflict
	case crmsync.IsTransient(err):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers a resync's err (statusOf), listing what was enqueued all
// the same.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, enqueued []Enqueued, err error) {
	status := statusOf(err)
	if status != http.StatusBadRequest {
		a.logger().ErrorContext(r.Context(), "admin call failed", "path", r.URL.Path, "error", err)
	}
	if enqueued == nil {
		enqueued = []Enqueued{}
	}
	writeJSON(w, status, ResyncResponse{Enqueued: enqueued, Error: err.Error()})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *Admin) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away; nothing to do
}
