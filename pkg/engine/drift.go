package engine

import (
	"context"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Drift is the drift check's answer for one linked pair.
type Drift struct {
	Link crmsync.Link
	// Drifted is set when resolving the pair now would write (or one of
	// its records is gone); Source is the record whose change the
	// resolution would carry over, the one to enqueue.
	Drifted bool
	Source  crmsync.RecordRef
	// HubSpotModified and SalesforceModified are the records' modification
	// times as read (zero when not read).
	HubSpotModified, SalesforceModified time.Time
	// Err is set when the pair could not be read (it is skipped).
	Err error
}

// CheckDrift asks the engine's own decision whether each active linked
// pair has drifted: both records are read (with batch calls), converted
// and merged exactly as a resolution would, and nothing is written. A
// converged pair of any type is never drifted. The associations are taken
// as last synced (no association reads: a drift check must stay cheap);
// their changes arrive as association webhooks and by the records' next
// resolution.
func (e *Engine) CheckDrift(ctx context.Context, settings crmsync.Settings, links []crmsync.Link) []Drift {
	jobs := make([]*job, 0, len(links))
	for i := range links {
		l := links[i]
		p, _ := pairFor(l.HubSpot, settings)
		jobs = append(jobs, &job{t: crmsync.Trigger{Record: l.HubSpot, Kind: crmsync.KindPropertyChanged, OccurredAt: e.now()},
			settings: settings, pair: p, link: &l})
	}
	pre := e.prefetch(ctx, jobs)
	out := make([]Drift, len(jobs))
	for i, j := range jobs {
		out[i] = e.driftOf(ctx, j, pre)
	}
	return out
}

func (e *Engine) driftOf(ctx context.Context, j *job, pre *prefetch) Drift {
	d := Drift{Link: *j.link}
	f, err := e.read(ctx, j, pre)
	if err != nil {
		d.Err = err
		return d
	}
	d.HubSpotModified = f.recs[crmsync.HubSpot].LastModified
	d.SalesforceModified = f.recs[crmsync.Salesforce].LastModified
	if gone := f.found.gone.ref; !gone.IsZero() {
		d.Drifted, d.Source = true, gone
		return d
	}
	p := decide(f)
	if p.Retry != nil || p.Writes.count() == 0 {
		return d
	}
	d.Drifted, d.Source = true, j.link.Salesforce
	for _, w := range p.Writes.Updates {
		if w.Ref.Side == crmsync.Salesforce {
			d.Source = j.link.HubSpot
		}
	}
	return d
}
