package health

import (
	"context"
	"fmt"
	"strconv"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// SetAllocation stores limit as the settings' Salesforce allocation
// (budget.salesforce_daily_limit; 0 = the org's own) when the settings in
// force still have version, and audits the change in the ledger under
// SettingsLedgerKey. A stale version is crmsync.ErrVersionConflict, a
// negative limit crmsync.ErrInvalid. Setting the value it already has
// stores nothing.
func (h *Handler) SetAllocation(ctx context.Context, limit int, version int64, who string) (crmsync.Settings, error) {
	if limit < 0 {
		return crmsync.Settings{}, fmt.Errorf("health: set allocation: %w: %d is negative", crmsync.ErrInvalid, limit)
	}
	s, err := h.Settings(ctx)
	if err != nil {
		return s, fmt.Errorf("health: set allocation: %w", err)
	}
	if s.Version != version {
		return s, fmt.Errorf("health: set allocation: %w: the settings are at version %d, the page had %d",
			crmsync.ErrVersionConflict, s.Version, version)
	}
	before := s.Budget.SalesforceDailyLimit
	if before == limit {
		return s, nil
	}
	now := h.now()
	s.Budget.SalesforceDailyLimit = limit
	s.UpdatedAt, s.UpdatedBy = now, who
	stored, err := h.Store.PutSettings(ctx, s)
	if err != nil {
		return stored, fmt.Errorf("health: set allocation: %w", err)
	}
	entry := crmsync.LedgerEntry{LinkID: SettingsLedgerKey, At: now,
		Changes: []crmsync.FieldChange{{Field: "budget.salesforce_daily_limit",
			Before: strconv.Itoa(before), After: strconv.Itoa(limit)}},
		Call:   "PutSettings",
		Result: fmt.Sprintf("settings version %d", stored.Version),
		Note:   "Salesforce API allocation changed on the Sync Health page by " + who}
	if err := h.Store.AppendLedger(ctx, entry); err != nil {
		// The change is stored; say the audit entry is missing.
		return stored, fmt.Errorf("health: allocation saved (settings version %d) but its audit entry was not: %w", stored.Version, err)
	}
	return stored, nil
}
