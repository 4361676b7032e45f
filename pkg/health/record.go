package health

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// RecordReader reads what the store knows about one record (crmsync.Store
// has it). Each method wraps crmsync.ErrNotFound when there is nothing.
type RecordReader interface {
	// GetLink returns the link holding ref, or ErrNotFound.
	GetLink(ctx context.Context, ref crmsync.RecordRef) (crmsync.Link, error)
	// GetSyncError returns the error of ref, or ErrNotFound.
	GetSyncError(ctx context.Context, ref crmsync.RecordRef) (crmsync.SyncError, error)
	// ListLedger pages through the entries of a link, newest first.
	ListLedger(ctx context.Context, linkID string, page crmsync.PageRequest) ([]crmsync.LedgerEntry, string, error)
}

// Explanation is everything the store holds about one record: the
// per-record sync card, and the -json form of `crmsync explain`.
type Explanation struct {
	Record crmsync.RecordRef `json:"record"`
	// Link is absent when the record is not linked.
	Link *crmsync.Link `json:"link,omitempty"`
	// SyncErrors are the errors of the record and of its linked record.
	SyncErrors []crmsync.SyncError `json:"sync_errors"`
	// Ledger is newest first: the link's entries and those kept under
	// either record before it was linked (engine.LedgerKey).
	Ledger []crmsync.LedgerEntry `json:"ledger"`
	// More is true when the limit cut the ledger short.
	More bool `json:"more"`
}

// Explain gathers what the store holds about ref, with at most limit
// ledger entries (0 = all).
func Explain(ctx context.Context, st RecordReader, ref crmsync.RecordRef, limit int) (Explanation, error) {
	x := Explanation{Record: ref, SyncErrors: []crmsync.SyncError{}, Ledger: []crmsync.LedgerEntry{}}
	refs := []crmsync.RecordRef{ref}
	switch l, err := st.GetLink(ctx, ref); {
	case err == nil:
		x.Link = &l
		refs = l.Refs()
	case !errors.Is(err, crmsync.ErrNotFound):
		return x, fmt.Errorf("get link: %w", err)
	}
	keys := []string{}
	if x.Link != nil {
		keys = append(keys, x.Link.ID)
	}
	for _, r := range refs {
		keys = append(keys, engine.LedgerKey(r))
		switch e, err := st.GetSyncError(ctx, r); {
		case err == nil:
			x.SyncErrors = append(x.SyncErrors, e)
		case !errors.Is(err, crmsync.ErrNotFound):
			return x, fmt.Errorf("get sync error of %s: %w", r, err)
		}
	}
	// Each key's entries are newest first; read up to limit of each, then
	// merge.
	for _, k := range keys {
		page := crmsync.PageRequest{Limit: 100}
		for {
			if limit > 0 {
				page.Limit = min(100, limit+1)
			}
			entries, next, err := st.ListLedger(ctx, k, page)
			if err != nil {
				return x, fmt.Errorf("list ledger %s: %w", k, err)
			}
			x.Ledger = append(x.Ledger, entries...)
			if next == "" || limit > 0 {
				if next != "" {
					x.More = true
				}
				break
			}
			page.Token = next
		}
	}
	sort.SliceStable(x.Ledger, func(i, j int) bool { return x.Ledger[i].At.After(x.Ledger[j].At) })
	if limit > 0 && len(x.Ledger) > limit {
		x.Ledger, x.More = x.Ledger[:limit], true
	}
	return x, nil
}

// RecordCard is the per-record sync card: the explanation plus when the
// record last synced each way.
type RecordCard struct {
	Explanation
	// ToSalesforce and ToHubSpot are the newest ledger entries that wrote
	// to that side (nil when none is among the entries read).
	ToSalesforce *crmsync.LedgerEntry `json:"last_sync_to_salesforce"`
	ToHubSpot    *crmsync.LedgerEntry `json:"last_sync_to_hubspot"`
}

// recordLedgerLimit is how many ledger entries the card shows.
const recordLedgerLimit = 25

// BuildRecordCard reads the card of ref.
func BuildRecordCard(ctx context.Context, st RecordReader, ref crmsync.RecordRef) (RecordCard, error) {
	x, err := Explain(ctx, st, ref, recordLedgerLimit)
	if err != nil {
		return RecordCard{}, err
	}
	c := RecordCard{Explanation: x}
	c.ToSalesforce = lastWrite(x.Ledger, crmsync.Salesforce)
	c.ToHubSpot = lastWrite(x.Ledger, crmsync.HubSpot)
	return c, nil
}

// lastWrite returns the newest entry (entries are newest first) that made
// a call writing to side: a sync toward that side.
func lastWrite(entries []crmsync.LedgerEntry, side crmsync.Side) *crmsync.LedgerEntry {
	for i, e := range entries {
		if e.Call != "" && e.Target.Side == side {
			return &entries[i]
		}
	}
	return nil
}
