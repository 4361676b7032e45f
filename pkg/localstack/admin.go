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
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/health"
)

// Admin is the local stack's operator endpoint, served on the receivers'
// port under /_crmsync/ (a loopback address by default, like the
// receivers; the deployed stack has no such route). `crmsync resync -local`
// calls it, because the running stack holds the bbolt file and its
// in-process queue, so no other process can reach either.
//
//	POST /_crmsync/resync         {"side":"hubspot","object":"contact","id":"101"}
//	POST /_crmsync/resync-errors  {"category":"Duplicates"}   (category optional: every errored record)
//
// Both enqueue KindManualResync triggers and answer 202 with what was
// enqueued, as ResyncResponse; 400 when the input is malformed or names an
// unknown side, object type or category; 403 for a caller not on a
// loopback address; 405 for another method; 503 when
// the queue or store failed transiently and 500 when it failed otherwise
// (then nothing, or only the triggers listed, were enqueued).
type Admin struct {
	// Queue receives the triggers; Store lists the sync errors for
	// resync-errors.
	Queue crmsync.Queue
	Store crmsync.Store
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
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

// Delivery ids of hand-made resyncs (package health defines them).
const (
	DeliveryResync       = health.DeliveryResync
	DeliveryResyncErrors = health.DeliveryResyncErrors
)

// ResyncTrigger is health.ResyncTrigger, kept for `crmsync resync`.
func ResyncTrigger(ref crmsync.RecordRef, now time.Time) crmsync.Trigger {
	return health.ResyncTrigger(ref, now)
}

// ResyncErrorTriggers is health.ResyncErrorTriggers, kept for `crmsync resync`.
func ResyncErrorTriggers(ctx context.Context, store crmsync.Store, category crmsync.Category, now time.Time) ([]crmsync.Trigger, error) {
	return health.ResyncErrorTriggers(ctx, store, category, now)
}

// ServeHTTP implements http.Handler.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var resync func(ctx context.Context, req ResyncRequest, now time.Time) ([]crmsync.Trigger, error)
	switch r.URL.Path {
	case AdminPath + "resync":
		resync = func(_ context.Context, req ResyncRequest, now time.Time) ([]crmsync.Trigger, error) {
			ref := crmsync.RecordRef{Side: req.Side, Object: req.Object, ID: req.ID}
			if err := ref.Validate(); err != nil {
				return nil, err
			}
			return []crmsync.Trigger{ResyncTrigger(ref, now)}, nil
		}
	case AdminPath + "resync-errors":
		resync = func(ctx context.Context, req ResyncRequest, now time.Time) ([]crmsync.Trigger, error) {
			if a.Store == nil {
				return nil, errors.New("resync errors: the stack has no store")
			}
			return ResyncErrorTriggers(ctx, a.Store, req.Category, now)
		}
	default:
		writeJSON(w, http.StatusNotFound, ResyncResponse{Enqueued: []Enqueued{}, Error: "no such admin route " + r.URL.Path})
		return
	}
	if !fromLoopback(r) {
		// The receivers may listen on a public address (-addr); the admin
		// routes answer only this machine.
		writeJSON(w, http.StatusForbidden, ResyncResponse{Enqueued: []Enqueued{}, Error: "admin routes answer loopback callers only"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, ResyncResponse{Enqueued: []Enqueued{}, Error: "use POST"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ResyncResponse{Enqueued: []Enqueued{}, Error: "read body: " + err.Error()})
		return
	}
	if len(body) > maxAdminBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, ResyncResponse{Enqueued: []Enqueued{}, Error: "body too large"})
		return
	}
	var req ResyncRequest
	if len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, ResyncResponse{Enqueued: []Enqueued{}, Error: "malformed JSON: " + err.Error()})
			return
		}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	ts, err := resync(r.Context(), req, now())
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	resp := ResyncResponse{Enqueued: []Enqueued{}}
	var sendErr error
	if len(ts) > 0 {
		sendErr = a.Queue.Send(r.Context(), ts)
	}
	var se *crmsync.SendError
	if sendErr != nil && !errors.As(sendErr, &se) {
		a.fail(w, r, nil, fmt.Errorf("enqueue: %w", sendErr))
		return
	}
	for i, t := range ts {
		if se != nil && se.Failed[i] != nil {
			continue
		}
		resp.Enqueued = append(resp.Enqueued, Enqueued{Record: t.Record, DedupeKey: t.DedupeKey})
		a.logger().InfoContext(r.Context(), "manual resync enqueued", "side", t.Record.Side,
			"object", t.Record.Object, "record_id", t.Record.ID, "dedupe_key", t.DedupeKey)
	}
	if se != nil {
		// Some were enqueued: say which, and fail the call so the caller
		// sees that others were not.
		a.fail(w, r, resp.Enqueued, fmt.Errorf("enqueue: %w (enqueued %d of %d)", se, len(resp.Enqueued), len(ts)))
		return
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// fail answers err with 400 for bad input, 503 when transient, else 500,
// listing what was enqueued all the same.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, enqueued []Enqueued, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, crmsync.ErrInvalid):
		status = http.StatusBadRequest
	case crmsync.IsTransient(err):
		status = http.StatusServiceUnavailable
	}
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
