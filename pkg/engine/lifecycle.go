package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// merged re-points the links of the records merged into the trigger's
// record (HubSpot merge webhooks: the record is the survivor, MergedIDs
// the losers). A loser's link moves to the survivor when the survivor has
// none, so its counterpart keeps syncing with the survivor and nothing is
// created again; when the survivor is already linked, the loser's link is
// marked deleted on the merged side (its counterpart is left alone, as
// for any delete) and the ledger says so.
func (r *run) merged(ctx context.Context) error {
	e, src := r.e, r.t.Record
	for _, id := range r.t.MergedIDs {
		loser := crmsync.RecordRef{Side: src.Side, Object: src.Object, ID: id}
		ll, err := e.Store.GetLink(ctx, loser)
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get link of merged %s: %w", loser, err)
		}
		_, err = e.Store.GetLink(ctx, src)
		survivorLinked := err == nil
		if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
			return fmt.Errorf("get link of %s: %w", src, err)
		}
		next := ll
		note := ""
		if survivorLinked {
			next.Status = crmsync.LinkDeletedHubSpot
			if src.Side == crmsync.Salesforce {
				next.Status = crmsync.LinkDeletedSalesforce
			}
			note = fmt.Sprintf("%s was merged into %s, which is already linked: link marked %s", loser, src, next.Status)
		} else {
			next = linkWith(next, src)
			note = fmt.Sprintf("%s was merged into %s: link re-pointed to %s", loser, src, src)
		}
		next.UpdatedAt = e.now()
		updated, err := e.Store.UpdateLink(ctx, next)
		if errors.Is(err, crmsync.ErrVersionConflict) || errors.Is(err, crmsync.ErrConflict) {
			return errRetry{"link of merged " + loser.String() + " changed while re-pointing it"}
		}
		if err != nil {
			return fmt.Errorf("re-point link of merged %s: %w", loser, err)
		}
		r.notes = append(r.notes, note)
		entry := crmsync.LedgerEntry{LinkID: updated.ID, At: e.now(), Trigger: r.t, Target: updated.Ref(src.Side.Other()),
			Result: "merged", Note: note}
		if err := e.Store.AppendLedger(ctx, entry); err != nil {
			return fmt.Errorf("append ledger: %w", err)
		}
		if err := e.Store.ClearSyncError(ctx, loser); err != nil {
			return fmt.Errorf("clear sync error of merged %s: %w", loser, err)
		}
	}
	return nil
}

// deletedByVendor reports whether the trigger says the vendor deleted the
// record (as opposed to a record that is merely not found, which may be a
// sharing change): only such deletes are mirrored.
func (r *run) deletedByVendor() bool {
	return r.t.Kind == crmsync.KindDeleted || r.t.Kind == crmsync.KindPrivacyDeleted
}

// mirrorDelete deletes the linked record when the settings say deletes
// mirror and the vendor said the source was deleted.
func (r *run) mirrorDelete(ctx context.Context) error {
	if r.settings.Deletes != crmsync.DeleteMirror || !r.deletedByVendor() || r.link == nil {
		return nil
	}
	other := r.link.Ref(r.t.Record.Side.Other())
	if other.IsZero() {
		return nil
	}
	d, ok := r.e.crm(other.Side).(crmsync.Deleter)
	if !ok {
		r.notes = append(r.notes, fmt.Sprintf("deletes mirror, but the %s client cannot delete: %s left alone", other.Side, other))
		return nil
	}
	if err := d.Delete(ctx, other); err != nil {
		return r.vendorFailure(ctx, r.t.Record, "delete "+other.String(), err)
	}
	r.out.Writes = append(r.out.Writes, Write{Op: "delete", Ref: other})
	r.notes = append(r.notes, fmt.Sprintf("deletes mirror: deleted %s", other))
	return nil
}
