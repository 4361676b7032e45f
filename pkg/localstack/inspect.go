package localstack

import (
	"context"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/health"
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
type ExplainReader = health.RecordReader

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

// Explanation is the answer of `crmsync explain` (and its -json form):
// the Sync Health page's record card (health.Explanation).
type Explanation = health.Explanation

// Explain gathers what the store holds about ref, with up to limit (0 =
// all) ledger entries: health.Explain, for the CLI and the admin route.
func Explain(ctx context.Context, st ExplainReader, ref crmsync.RecordRef, limit int) (Explanation, error) {
	if err := ref.Validate(); err != nil {
		return Explanation{Record: ref}, err
	}
	if limit < 0 {
		return Explanation{Record: ref}, fmt.Errorf("explain: %w: negative limit", crmsync.ErrInvalid)
	}
	return health.Explain(ctx, st, ref, limit)
}
