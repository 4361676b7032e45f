package backfill

import (
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// Store is what a job keeps in the store: its checkpoint (a lease) and
// the links it reads to skip what it linked.
type Store interface {
	Checkpoints
	Links
}

// New returns the backfill of settings' object pairs through eng, paging
// with the vendor clients and using this package's adapters where the
// clients lack a batch ability (HubSpot batch create; identity matching
// by many emails on both sides). Salesforce creations go out in
// collections with the client's own CreateMany (crmsync.BatchCreator).
func New(settings crmsync.Settings, st Store, eng *engine.Engine, hs *hubspot.Client, sf *salesforce.Client, owner string) *Job {
	h, s := HubSpot{Client: hs}, Salesforce{Client: sf}
	return &Job{Targets: Targets(settings), Engine: eng, Checkpoints: st, Links: st, Owner: owner,
		Pagers: map[crmsync.Side]Pager{crmsync.HubSpot: h, crmsync.Salesforce: s},
		Bulk: engine.Bulk{
			Find:   map[crmsync.Side]engine.EmailFinder{crmsync.HubSpot: h, crmsync.Salesforce: s},
			Create: map[crmsync.Side]crmsync.BatchCreator{crmsync.HubSpot: h},
		}}
}
