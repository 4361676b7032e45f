package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// UsageReader reads counted API calls (crmsync.Store has it).
type UsageReader interface {
	// APIUsage sums the calls to side in the 24 hours before now, at the
	// resolution of crmsync.UsageBucket: a call is counted until its
	// bucket ends more than 24 h before now. now may be in the future.
	APIUsage(ctx context.Context, side crmsync.Side, now time.Time) (int64, error)
}

// HourUsage is the calls made in one clock hour.
type HourUsage struct {
	Start time.Time `json:"start"`
	Calls int64     `json:"calls"`
}

// hourlyUsage returns the calls to side in each of the 24 clock hours up to
// and including the current one, oldest first.
//
// It is built from APIUsage alone. APIUsage at a moment m counts the
// buckets that start after m − 24 h − UsageBucket; no call is ever counted
// after the present, so APIUsage at h + 24 h + UsageBucket − 1 s is the
// number of calls since h, for any h in the last day (the stores keep two
// windows of buckets). The hour starting at h is then the calls since h
// less the calls since h + 1 h. That costs 24 store reads, made
// concurrently, where a series method would cost one.
func hourlyUsage(ctx context.Context, st UsageReader, side crmsync.Side, now time.Time) ([]HourUsage, error) {
	const hours = 24
	first := now.Truncate(time.Hour).Add(-(hours - 1) * time.Hour)
	sinceStart := make([]int64, hours+1) // sinceStart[hours] is the future: 0
	errs := make([]error, hours)
	var wg sync.WaitGroup
	for i := range hours { // concurrently: on DynamoDB each read is a round trip
		wg.Go(func() {
			h := first.Add(time.Duration(i) * time.Hour)
			n, err := st.APIUsage(ctx, side, h.Add(crmsync.UsageWindow+crmsync.UsageBucket-time.Second))
			if err != nil {
				errs[i] = fmt.Errorf("api usage of %s since %s: %w", side, h.Format(time.RFC3339), err)
			}
			sinceStart[i] = n
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]HourUsage, hours)
	for i := range hours {
		out[i] = HourUsage{Start: first.Add(time.Duration(i) * time.Hour), Calls: max(sinceStart[i]-sinceStart[i+1], 0)}
	}
	return out, nil
}
