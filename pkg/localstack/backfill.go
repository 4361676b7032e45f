package localstack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/health"
)

// BackfillRequest is the body of POST /_crmsync/backfill (one page) and
// POST /_crmsync/backfill-plan (the whole dry run): the page size (0:
// backfill.DefaultSize); Restart starts the backfill over before the page.
type BackfillRequest struct {
	Size    int  `json:"size,omitempty"`
	Restart bool `json:"restart,omitempty"`
}

// serveCall serves a route that decodes a Req, calls do (missing says
// why the stack cannot when do is nil: 501) and answers its result.
func serveCall[Req, Resp any](do func(ctx context.Context, req Req) (Resp, error), missing string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if !decodeBody(w, r, &req) {
			return
		}
		if do == nil {
			writeJSON(w, http.StatusNotImplemented, adminError{Error: missing})
			return
		}
		out, err := do(r.Context(), req)
		if err != nil {
			writeJSON(w, statusOf(err), adminError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// BackfillStep runs the next page of the stack's backfill.
func (c *AdminClient) BackfillStep(ctx context.Context, req BackfillRequest) (backfill.Progress, error) {
	var out backfill.Progress
	return out, c.do(ctx, http.MethodPost, "backfill", nil, req, &out)
}

// PlanBackfill dry-runs the stack's backfill.
func (c *AdminClient) PlanBackfill(ctx context.Context, size int) (*engine.BulkPlan, error) {
	var out engine.BulkPlan
	return &out, c.do(ctx, http.MethodPost, "backfill-plan", nil, BackfillRequest{Size: size}, &out)
}

// backfillJob is the stack's backfill under the settings in force.
func (s *Stack) backfillJob(ctx context.Context, st backfill.Store, size int) (*backfill.Job, error) {
	settings, err := s.Engine.Settings(ctx)
	if err != nil {
		return nil, err
	}
	j := backfill.New(settings, st, s.Engine, s.HubSpotClient, s.SalesforceClient, "crmsync local")
	j.Size = size
	return j, nil
}

// ResyncPlanRequest is the body of POST /_crmsync/resync-plan: which
// resync to dry-run — one record (Side, Object, ID), every errored record
// (Errors, of Category when set) or a HubSpot list's members (ListID, of
// Object: contact when empty) — in the worker's batches of BatchSize.
type ResyncPlanRequest struct {
	Side      crmsync.Side       `json:"side,omitempty"`
	Object    crmsync.ObjectType `json:"object,omitempty"`
	ID        string             `json:"id,omitempty"`
	Errors    bool               `json:"errors,omitempty"`
	Category  crmsync.Category   `json:"category,omitempty"`
	ListID    string             `json:"list_id,omitempty"`
	BatchSize int                `json:"batch_size,omitempty"`
}

// ResyncTriggers are the triggers the resync req describes enqueues: the
// errored records read from errs, a list's members paged with lists.
func ResyncTriggers(ctx context.Context, req ResyncPlanRequest, errs health.ErrorLister, lists ListMembers, now time.Time) ([]crmsync.Trigger, error) {
	switch {
	case req.Errors:
		return health.ResyncErrorTriggers(ctx, errs, req.Category, now)
	case req.ListID != "":
		if lists == nil {
			return nil, fmt.Errorf("%w: this stack reads no HubSpot lists", crmsync.ErrInvalid)
		}
		object := req.Object
		if object == "" {
			object = crmsync.HSContact
		}
		var out []crmsync.Trigger
		after := ""
		for {
			ids, next, err := lists.ListMembers(ctx, req.ListID, after, 100)
			if err != nil {
				return nil, fmt.Errorf("read list %s: %w", req.ListID, err)
			}
			ts, err := ResyncListTriggers(object, ids, now)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
			if after = next; after == "" {
				return out, nil
			}
		}
	}
	ref := crmsync.RecordRef{Side: req.Side, Object: req.Object, ID: req.ID}
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	return []crmsync.Trigger{health.ResyncTrigger(ref, now)}, nil
}

// planResync is the resync-plan route's call (nil when the stack cannot
// plan).
func (a *Admin) planResync() func(ctx context.Context, req ResyncPlanRequest) (*engine.BulkPlan, error) {
	if a.PlanResync == nil {
		return nil
	}
	return func(ctx context.Context, req ResyncPlanRequest) (*engine.BulkPlan, error) {
		ts, err := ResyncTriggers(ctx, req, a.Store, a.Lists, a.now())
		if err != nil {
			return nil, err
		}
		return a.PlanResync(ctx, ts, req.BatchSize)
	}
}

// PlanResync dry-runs a resync on the stack.
func (c *AdminClient) PlanResync(ctx context.Context, req ResyncPlanRequest) (*engine.BulkPlan, error) {
	var out engine.BulkPlan
	return &out, c.do(ctx, http.MethodPost, "resync-plan", nil, req, &out)
}
