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
	before, err := engine.CallsCounted(ctx, usage, j.now())
	if err != nil {
		return bp, fmt.Errorf("plan backfill: %w", err)
	}
	extra := map[crmsync.Side]int{}
	linked := map[crmsync.RecordRef]bool{} // what earlier pages would link: the run skips them
	for _, t := range j.Targets {
		after, listed := "", 0
		created := bp.Writes["create "+t.String()] // by earlier targets: the run lists them too
		for {
			ids, next, err := j.list(ctx, t, after)
			if err != nil {
				return bp, fmt.Errorf("plan backfill: %w", err)
			}
			listed += len(ids)
			var todo []string
			for _, id := range ids {
				if !linked[crmsync.RecordRef{Side: t.Side, Object: t.Object, ID: id}] {
					todo = append(todo, id)
				}
			}
			page, err := planner.PreviewPage(ctx, Triggers(t, todo, "plan", j.now()), j.Bulk)
			if err != nil {
				return bp, fmt.Errorf("plan backfill: %s: %w", t, err)
			}
			planner.AddPage(bp, page, j.Bulk)
			for _, p := range page {
				if p.Linked.ID != "" {
					linked[p.Linked] = true
				}
			}
			if after = next; after == "" {
				break
			}
		}
		// The run also counts each target's records once (for its ETA).
		extra[t.Side] += j.listCalls(t, listed+created) - j.listCalls(t, listed) + 1
	}
	after, err := engine.CallsCounted(ctx, usage, j.now())
	if err != nil {
		return bp, fmt.Errorf("plan backfill: %w", err)
	}
	for _, s := range crmsync.Sides {
		bp.Reads[s] = int(after[s]-before[s]) + extra[s]
	}
	return bp, nil
}

// listCalls estimates the calls listing n records of t costs: a call per
// page of the vendor's listing (HubSpot's list: 100; SOQL: the job's page
// size), and one more for the empty page that ends a listing of a
// multiple of it.
func (j *Job) listCalls(t Target, n int) int {
	per := j.size()
	if t.Side == crmsync.HubSpot {
		per = min(per, 100)
	}
	return n/per + 1
}
