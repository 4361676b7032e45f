package crmsync

import (
	"context"
	"time"
)

// Store holds everything crmsync remembers: settings, links with their
// shadows, dedupe keys, sweep cursors, sync errors, API usage and the
// ledger. Implementations: ddbstore (DynamoDB, in AWS) and boltstore (an
// embedded file, the local default). Every implementation passes
// crmsynctest.TestStore.
//
// It is composed of role interfaces; consumers take only the roles they
// use (the sweep: cursors, links, sync errors, leases, settings).
//
// All methods are safe for concurrent use, across processes for ddbstore.
// Errors wrap the sentinels of this package; anything else is a failure of
// the backing store (IsTransient says whether to retry).
type Store interface {
	SettingsStore
	Links
	Dedupe
	Cursors
	SyncErrors
	Usage
	Ledger
	Leases
}

// SettingsStore holds the versioned settings.
type SettingsStore interface {
	// GetSettings returns the stored settings, or ErrNotFound when none
	// were ever stored (callers then use DefaultSettings).
	GetSettings(ctx context.Context) (Settings, error)
	// PutSettings stores s when the stored version equals s.Version (0 =
	// none stored yet) and returns it with the new version; otherwise
	// ErrVersionConflict. Invalid settings are ErrInvalid.
	PutSettings(ctx context.Context, s Settings) (Settings, error)
}

// Links holds the links of record pairs with their shadows; both ids of a
// link are unique across links.
type Links interface {
	// GetLink returns the link holding ref, or ErrNotFound.
	GetLink(ctx context.Context, ref RecordRef) (Link, error)
	// GetLinkByID returns the link with that id, or ErrNotFound.
	GetLinkByID(ctx context.Context, id string) (Link, error)
	// CreateLink stores a new link (one side may be empty: a reservation)
	// with version 1 and returns it, with an id assigned when l.ID is
	// empty. ErrConflict when any of its refs is already linked (or l.ID
	// is in use); of many concurrent creates for one ref exactly one
	// succeeds, and a failed create claims nothing. Invalid links are
	// ErrInvalid.
	CreateLink(ctx context.Context, l Link) (Link, error)
	// UpdateLink replaces the stored link when its version equals l.Version
	// and returns it with the version incremented; ErrVersionConflict
	// otherwise, ErrNotFound when it does not exist. Changing a ref
	// (filling an empty side, or re-pointing after a merge) releases the
	// old id and claims the new one in the same atomic write: ErrConflict
	// when the new id is linked elsewhere.
	UpdateLink(ctx context.Context, l Link) (Link, error)
	// DeleteLink removes the link and releases its ids when its version
	// equals version; ErrVersionConflict otherwise, ErrNotFound when absent.
	DeleteLink(ctx context.Context, id string, version int64) error
	// ListLinks pages through all links in a stable order.
	ListLinks(ctx context.Context, page PageRequest) ([]Link, string, error)
}

// Dedupe remembers the deliveries already handled.
type Dedupe interface {
	// Seen records key as seen for ttl and reports whether it had already
	// been seen (and not expired). Atomic: of concurrent calls with one new
	// key exactly one gets false. A ttl that is not positive is ErrInvalid.
	Seen(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Forget removes key, so a delivery whose processing failed can be seen
	// as new again. Forgetting an unknown key is not an error.
	Forget(ctx context.Context, key string) error
}

// Cursors holds the sweep's change cursors.
type Cursors interface {
	// GetCursor returns the sweep cursor of side and object, or ErrNotFound.
	GetCursor(ctx context.Context, side Side, object ObjectType) (Cursor, error)
	// PutCursor stores c, replacing the previous cursor. ErrInvalid when
	// c.Object is not an object type of c.Side.
	PutCursor(ctx context.Context, c Cursor) error
}

// SyncErrors holds one sync error per record that did not sync.
type SyncErrors interface {
	// PutSyncError stores e as the error of e.Record, replacing any earlier
	// one. ErrInvalid when e does not validate.
	PutSyncError(ctx context.Context, e SyncError) error
	// GetSyncError returns the error of ref, or ErrNotFound.
	GetSyncError(ctx context.Context, ref RecordRef) (SyncError, error)
	// ListSyncErrors pages through errors of one category ("" = all),
	// ordered by record key. An unknown category is ErrInvalid.
	ListSyncErrors(ctx context.Context, category Category, page PageRequest) ([]SyncError, string, error)
	// CountSyncErrors returns the number of errors per category (categories
	// with none are absent).
	CountSyncErrors(ctx context.Context) (map[Category]int, error)
	// ClearSyncError removes the error of ref; clearing none is not an error.
	ClearSyncError(ctx context.Context, ref RecordRef) error
	// ListSyncErrorsDue pages through the errors whose NextRetry is set and
	// not after now, ordered by record key. A malformed token is ErrInvalid.
	ListSyncErrorsDue(ctx context.Context, now time.Time, page PageRequest) ([]SyncError, string, error)
}

// Usage counts API calls per side.
type Usage interface {
	// AddAPIUsage counts n calls to side at time at. ErrInvalid for an
	// unknown side or a negative n.
	AddAPIUsage(ctx context.Context, side Side, at time.Time, n int) error
	// APIUsage sums the calls to side in the 24 hours before now, at the
	// resolution of UsageBucket (a call is counted until its bucket ends
	// more than 24 h before now).
	APIUsage(ctx context.Context, side Side, now time.Time) (int64, error)
}

// Ledger holds the record of every decision.
type Ledger interface {
	// AppendLedger stores e (an id is assigned when e.ID is empty); entries
	// expire after the store's ledger retention, counted from the append.
	// An entry without LinkID is ErrInvalid.
	AppendLedger(ctx context.Context, e LedgerEntry) error
	// ListLedger pages through the entries of a link, newest first.
	ListLedger(ctx context.Context, linkID string, page PageRequest) ([]LedgerEntry, string, error)
}

// Leases are named, expiring locks (the sweep holds one per run).
type Leases interface {
	// AcquireLease takes the lease name for owner until ttl from the
	// store's clock, when it is free, expired or already owner's (then it
	// is renewed: its expiry moves to ttl from now). Of concurrent calls
	// for a free lease exactly one acquires it. It returns the lease as
	// stored after the call and whether owner now holds it; when not, the
	// lease names the holder and its expiry. Empty name or owner, or a ttl
	// that is not positive, is ErrInvalid.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (Lease, bool, error)
	// ReleaseLease frees the lease name when owner holds it, storing
	// checkpoint with it for the next holder. When owner does not hold it
	// (never did, or it expired and was taken) nothing changes and the
	// result is nil.
	ReleaseLease(ctx context.Context, name, owner, checkpoint string) error
}

// Lease is a named, expiring lock with a checkpoint: the small state the
// holder leaves for the next one (the sweep keeps its drift-check position
// there), like a Kinesis Client Library lease. A released lease keeps its
// checkpoint and has an empty Owner.
type Lease struct {
	Name  string    `json:"name"`
	Owner string    `json:"owner,omitempty"`
	Until time.Time `json:"until"`
	// Checkpoint is what the last holder left on ReleaseLease.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// UsageBucket is the resolution of API-usage counting.
const UsageBucket = 5 * time.Minute

// UsageWindow is the rolling window APIUsage sums over.
const UsageWindow = 24 * time.Hour

// PageRequest asks for one page of a listing: at most Limit items (0 = the
// store's default, DefaultPageSize) after the opaque Token returned with
// the previous page ("" = from the start). The next token is "" on the last
// page. A malformed token is ErrInvalid.
type PageRequest struct {
	Limit int
	Token string
}

// DefaultPageSize is the page size when PageRequest.Limit is 0.
const DefaultPageSize = 100

// Size returns the effective page size of p.
func (p PageRequest) Size() int {
	if p.Limit <= 0 {
		return DefaultPageSize
	}
	return p.Limit
}
