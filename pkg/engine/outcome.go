package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

func isVendor(err error) bool {
	var v crmsync.VendorError
	return errors.As(err, &v)
}

// vendorFailure turns a vendor error into the run's result: transient (or
// unknown) errors are returned for a retry; terminal vendor errors become
// the record's sync error.
func (r *run) vendorFailure(ctx context.Context, ref crmsync.RecordRef, op string, err error) error {
	var v crmsync.VendorError
	if errors.Is(err, crmsync.ErrInvalid) && !crmsync.IsTransient(err) {
		// A value the client could not put on the wire (e.g. text into a
		// number field): the record must change, retrying will not help.
		return r.recordError(ctx, crmsync.SyncError{Category: crmsync.CategoryPropertyValues, Code: "INVALID_VALUE",
			Message: fmt.Sprintf("%s: %v", op, err), Hint: hintFor(crmsync.CategoryPropertyValues, "")}, DecisionFailed)
	}
	if crmsync.IsTransient(err) || !errors.As(err, &v) {
		return fmt.Errorf("%s: %w", op, err)
	}
	cat := v.Category()
	if !cat.Valid() {
		cat = crmsync.CategoryOther
	}
	se := crmsync.SyncError{Category: cat, Code: v.Code(), Message: fmt.Sprintf("%s: %v", op, err), Hint: hintFor(cat, v.Code())}
	return r.recordError(ctx, se, DecisionFailed)
}

// notEligible records an eligibility refusal.
func (r *run) notEligible(ctx context.Context, reason crmsync.Reason, msg string) error {
	return r.recordError(ctx, crmsync.SyncError{Category: reason.Category(), Reason: reason, Message: msg, Hint: reason.Hint()}, DecisionNotEligible)
}

// recordError stores se as the source record's sync error (keeping when it
// was first seen and counting attempts), schedules its retry per the
// settings, and writes the ledger.
func (r *run) recordError(ctx context.Context, se crmsync.SyncError, d Decision) error {
	e, now := r.e, r.e.now()
	se.Record = r.t.Record
	se.LastSeen = now
	se.FirstSeen = now
	se.Attempts = 1
	se.LinkID = r.out.LinkID
	prev, err := e.Store.GetSyncError(ctx, se.Record)
	switch {
	case err == nil:
		se.FirstSeen = prev.FirstSeen
		se.Attempts = prev.Attempts + 1
	case !errors.Is(err, crmsync.ErrNotFound):
		return fmt.Errorf("get sync error: %w", err)
	}
	se.NextRetry = nextRetry(r.settings.Retry, se.Attempts, now)
	if err := e.Store.PutSyncError(ctx, se); err != nil {
		return fmt.Errorf("put sync error: %w", err)
	}
	r.out.Decision = d
	r.out.Reason = se.Message
	r.out.Category = se.Category
	result := fmt.Sprintf("sync error: %s", se.Category)
	if se.Code != "" {
		result += " " + se.Code
	}
	return r.ledger(ctx, crmsync.RecordRef{}, nil, "", result)
}

// nextRetry is when an errored record is retried: every Interval up to
// MaxAttempts, then every ThenEvery.
func nextRetry(rs crmsync.RetrySettings, attempts int, now time.Time) time.Time {
	if attempts <= rs.MaxAttempts {
		return now.Add(rs.Interval)
	}
	return now.Add(rs.ThenEvery)
}

func (r *run) clearError(ctx context.Context) error {
	if err := r.e.Store.ClearSyncError(ctx, r.t.Record); err != nil {
		return fmt.Errorf("clear sync error: %w", err)
	}
	return nil
}

// LedgerKey is the ledger key of a record that has no link yet.
func LedgerKey(ref crmsync.RecordRef) string { return "record/" + ref.Key() }

func (r *run) ledger(ctx context.Context, target crmsync.RecordRef, fields []mapping.FieldPlan, call, result string) error {
	key := LedgerKey(r.t.Record)
	if r.link != nil && r.out.LinkID != "" {
		key = r.link.ID
	}
	note := r.out.Reason
	if len(r.notes) > 0 {
		note += "; " + strings.Join(r.notes, "; ")
	}
	entry := crmsync.LedgerEntry{LinkID: key, At: r.e.now(), Trigger: r.t, Target: target,
		Call: call, Result: result, Note: note}
	for _, f := range fields {
		if f.Action == mapping.Keep {
			continue
		}
		fc := crmsync.FieldChange{Field: f.Mapping.Key(), Rule: string(f.Mapping.Rule), Before: f.Before, After: f.Value}
		if f.Conflict != nil {
			fc.Conflict = fmt.Sprintf("%s won; losing value %q", f.Conflict.Winner, f.Conflict.LoserValue)
		}
		entry.Changes = append(entry.Changes, fc)
	}
	if err := r.e.Store.AppendLedger(ctx, entry); err != nil {
		return fmt.Errorf("append ledger: %w", err)
	}
	return nil
}

// hintFor says what a person can do about a vendor failure.
func hintFor(c crmsync.Category, code string) string {
	switch code {
	case "DUPLICATES_DETECTED":
		return "a Salesforce duplicate rule blocked the write: merge the records or allow the save in the rule"
	case "FIELD_CUSTOM_VALIDATION_EXCEPTION":
		return "a Salesforce validation rule rejected the values: fix the record or relax the rule"
	case "REQUIRED_FIELD_MISSING":
		return "fill in the required field on the source record, or map a field to it"
	case "INVALID_EMAIL_ADDRESS":
		return "correct the email address on the source record"
	}
	switch c {
	case crmsync.CategoryPropertyValues:
		return "correct the value on the source record, or change the field mapping"
	case crmsync.CategoryPermissions:
		return "give the integration user access to the record or field"
	case crmsync.CategoryDuplicates:
		return "merge the duplicate records, then resync"
	case crmsync.CategoryAssociations:
		return "sync the associated record first, or remove the association"
	case crmsync.CategoryCustomCode:
		return "a trigger, flow or validation rule rejected the write: check its message"
	}
	return "see the vendor's message; resync the record once it is fixed"
}
