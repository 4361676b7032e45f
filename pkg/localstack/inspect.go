package localstack

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// What `crmsync errors` and `crmsync explain` read, in one place: the CLI
// reads it from a store it opens, or — while `crmsync local` holds the
// bbolt file — through the running stack's admin routes, which call the
// same functions.

// SyncErrorLister is what ListErrors reads; every crmsync.Store has it.
type SyncErrorLister interface {
	// CountSyncErrors and ListSyncErrors as crmsync.Store documents them.
	CountSyncErrors(ctx context.Context) (map[crmsync.Category]int, error)
	ListSyncErrors(ctx context.Context, category crmsync.Category, page crmsync.PageRequest) ([]crmsync.SyncError, string, error)
}

// ExplainReader is what Explain reads; every crmsync.Store has it.
type ExplainReader interface {
	// GetLink, GetSyncError (ErrNotFound when absent) and ListLedger as
	// crmsync.Store documents them.
	GetLink(ctx context.Context, ref crmsync.RecordRef) (crmsync.Link, error)
	GetSyncError(ctx context.Context, ref crmsync.RecordRef) (crmsync.SyncError, error)
	ListLedger(ctx context.Context, linkID string, page crmsync.PageRequest) ([]crmsync.LedgerEntry, string, error)
}

// ErrorsReport is the answer of `crmsync errors` (and its -json form).
type ErrorsReport struct {
	Total  int                      `json:"total"`
	Counts map[crmsync.Category]int `json:"counts"`
	Errors []crmsync.SyncError      `json:"errors"`
	// More is true when the limit cut the list short.
	More bool `json:"more"`
}

// ListErrors counts the sync errors per category and lists up to limit
// (0 = all) of category ("" = every category).
func ListErrors(ctx context.Context, st SyncErrorLister, category crmsync.Category, limit int) (ErrorsReport, error) {
	rep := ErrorsReport{Errors: []crmsync.SyncError{}}
	if category != "" && !category.Valid() {
		return rep, fmt.Errorf("list errors: %w: unknown category %q", crmsync.ErrInvalid, category)
	}
	if limit < 0 {
		return rep, fmt.Errorf("list errors: %w: negative limit", crmsync.ErrInvalid)
	}
	var err error
	if rep.Counts, err = st.CountSyncErrors(ctx); err != nil {
		return rep, fmt.Errorf("count errors: %w", err)
	}
	for _, n := range rep.Counts {
		rep.Total += n
	}
	page := crmsync.PageRequest{Limit: 100}
	for {
		if limit > 0 {
			page.Limit = min(100, limit-len(rep.Errors))
		}
		list, next, err := st.ListSyncErrors(ctx, category, page)
		if err != nil {
			return rep, fmt.Errorf("list errors: %w", err)
		}
		rep.Errors = append(rep.Errors, list...)
		if next == "" {
			return rep, nil
		}
		if limit > 0 && len(rep.Errors) >= limit {
			rep.More = true
			return rep, nil
		}
		page.Token = next
	}
}

// Explanation is the answer of `crmsync explain` (and its -json form).
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

// Explain gathers what the store holds about ref, with up to limit (0 =
// all) ledger entries.
func Explain(ctx context.Context, st ExplainReader, ref crmsync.RecordRef, limit int) (Explanation, error) {
	x := Explanation{Record: ref, SyncErrors: []crmsync.SyncError{}, Ledger: []crmsync.LedgerEntry{}}
	if err := ref.Validate(); err != nil {
		return x, err
	}
	if limit < 0 {
		return x, fmt.Errorf("explain: %w: negative limit", crmsync.ErrInvalid)
	}
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
