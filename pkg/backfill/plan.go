package backfill

import (
	"context"
	"fmt"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// Planner previews pages; *engine.Engine is one.
type Planner interface {
	PreviewPage(ctx context.Context, ts []crmsync.Trigger, b engine.Bulk) ([]engine.Preview, error)
	AddPage(bp *engine.BulkPlan, page []engine.Preview, b engine.Bulk)
}

// UsageReader reads the API calls counted per side (crmsync.Usage: the
// clients count every call into the store).
type UsageReader interface {
	APIUsage(ctx context.Context, side crmsync.Side, now time.Time) (int64, error)
}

// Plan is the dry run of the job (`crmsync plan -backfill`): every page
// listed and previewed as Step would resolve it, nothing written, no
// checkpoint. The plan's reads are the run's reads — it makes them — and
// are measured as the calls usage counted meanwhile (other work running
// at the same time counts in too); the writes' calls are the engine's
// estimate (engine.BulkPlan).
func (j *Job) Plan(ctx context.Context, planner Planner, usage UsageReader) (*engine.BulkPlan, error) {
	bp := engine.NewBulkPlan(j.size())
	before, err := j.usage(ctx, usage)
	if err != nil {
		return bp, err
	}
	for _, t := range j.Targets {
		after := ""
		for {
			ids, next, err := j.list(ctx, t, after)
			if err != nil {
				return bp, fmt.Errorf("plan backfill: %w", err)
			}
			page, err := planner.PreviewPage(ctx, Triggers(t, ids, "plan", j.now()), j.Bulk)
			if err != nil {
				return bp, fmt.Errorf("plan backfill: %s: %w", t, err)
			}
			planner.AddPage(bp, page, j.Bulk)
			if after = next; after == "" {
				break
			}
		}
	}
	after, err := j.usage(ctx, usage)
	for _, s := range crmsync.Sides {
		bp.Reads[s] = int(after[s] - before[s])
	}
	return bp, err
}

func (j *Job) usage(ctx context.Context, u UsageReader) (map[crmsync.Side]int64, error) {
	out := map[crmsync.Side]int64{}
	for _, s := range crmsync.Sides {
		n, err := u.APIUsage(ctx, s, j.now())
		if err != nil {
			return out, fmt.Errorf("plan backfill: read API usage: %w", err)
		}
		out[s] = n
	}
	return out, nil
}
