package sweep

import (
	"context"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Change is one record a Source reports: modified (or, from Deletions,
// deleted) at Modified.
type Change struct {
	Ref      crmsync.RecordRef
	Modified time.Time
}

// Source lists one side's changed records. SalesforceSource and
// HubSpotSource adapt the vendor clients; tests use fakes.
type Source interface {
	// Changes calls fn for every record of object modified after from, in
	// (modified time, id) order, the id order being the vendor's: first
	// the records modified at from.Timestamp whose id comes after
	// from.LastID (all of them when LastID is ""), then every record
	// modified later. A zero from.Timestamp means from the beginning. An
	// error from fn stops the listing and is returned, wrapped or not;
	// other errors are the vendor's (crmsync.IsTransient says whether to
	// retry).
	Changes(ctx context.Context, object crmsync.ObjectType, from crmsync.Cursor, fn func(Change) error) error
}

// Deletions is the optional ability of a Source to list deleted records
// (Salesforce getDeleted; HubSpot archived records), found by type
// assertion.
type Deletions interface {
	// Deleted calls fn for every record of object deleted between from and
	// until (Modified is the deletion time; a record may be reported again
	// by a later, overlapping call). It returns the start it answered
	// from: later than from when from is before the oldest deletion the
	// vendor still keeps (Salesforce: 15 days), which means deletions may
	// have been missed. Errors as for Changes.
	Deleted(ctx context.Context, object crmsync.ObjectType, from, until time.Time, fn func(Change) error) (time.Time, error)
}

// Sender is the part of crmsync.Queue the sweep uses: it only enqueues.
type Sender interface {
	// Send enqueues triggers; see crmsync.Queue.Send.
	Send(ctx context.Context, triggers []crmsync.Trigger) error
}

var _ Sender = crmsync.Queue(nil)
