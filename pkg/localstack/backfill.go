package localstack

import (
	"context"
	"net/http"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/engine"
)

// BackfillRequest is the body of POST /_crmsync/backfill (one page) and
// POST /_crmsync/backfill-plan (the whole dry run): the page size (0:
// backfill.DefaultSize); Restart starts the backfill over before the page.
type BackfillRequest struct {
	Size    int  `json:"size,omitempty"`
	Restart bool `json:"restart,omitempty"`
}

func (a *Admin) backfillStep(w http.ResponseWriter, r *http.Request) {
	var req BackfillRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if a.Backfill == nil {
		writeJSON(w, http.StatusNotImplemented, adminError{Error: "this stack cannot backfill"})
		return
	}
	p, err := a.Backfill(r.Context(), req)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *Admin) backfillPlan(w http.ResponseWriter, r *http.Request) {
	var req BackfillRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if a.PlanBackfill == nil {
		writeJSON(w, http.StatusNotImplemented, adminError{Error: "this stack cannot plan a backfill"})
		return
	}
	p, err := a.PlanBackfill(r.Context(), req.Size)
	if err != nil {
		writeJSON(w, statusOf(err), adminError{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, p)
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
