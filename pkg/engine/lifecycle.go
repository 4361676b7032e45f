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
	src := r.t.Record
	for _, id := range r.t.MergedIDs {
		if err := r.repoint(ctx, src, crmsync.RecordRef{Side: src.Side, Object: src.Object, ID: id}); err != nil {
			return err
		}
	}
	return nil
}

// repoint moves the link of loser (merged into survivor) to survivor, or
// retires it when survivor is already linked.
func (r *run) repoint(ctx context.Context, survivor, loser crmsync.RecordRef) error {
	e := r.e
	ll, err := e.Store.GetLink(ctx, loser)
	if errors.Is(err, crmsync.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get link of merged %s: %w", loser, err)
	}
	_, err = e.Store.GetLink(ctx, survivor)
	survivorLinked := err == nil
	if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
		return fmt.Errorf("get link of %s: %w", survivor, err)
	}
	next := ll
	var note string
	if survivorLinked {
		next.Status = crmsync.LinkDeletedHubSpot
		if survivor.Side == crmsync.Salesforce {
			next.Status = crmsync.LinkDeletedSalesforce
		}
		note = fmt.Sprintf("%s was merged into %s, which is already linked: link marked %s", loser, survivor, next.Status)
	} else {
		next = linkWith(next, survivor)
		note = fmt.Sprintf("%s was merged into %s: link re-pointed to %s", loser, survivor, survivor)
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
	entry := crmsync.LedgerEntry{LinkID: updated.ID, At: e.now(), Trigger: r.t, Target: updated.Ref(survivor.Side.Other()),
		Result: "merged", Note: note}
	if err := e.Store.AppendLedger(ctx, entry); err != nil {
		return fmt.Errorf("append ledger: %w", err)
	}
	if err := e.Store.ClearSyncError(ctx, loser); err != nil {
		return fmt.Errorf("clear sync error of merged %s: %w", loser, err)
	}
	return nil
}

// mergedAway asks the source's CRM whether the gone source was merged
// into another record (crmsync.MergeResolver) and, if so, re-points its
// link. It reports whether it was.
func (r *run) mergedAway(ctx context.Context) (bool, error) {
	src := r.t.Record
	mr, ok := r.e.crm(src.Side).(crmsync.MergeResolver)
	if !ok || r.link == nil {
		return false, nil
	}
	survivor, ok, err := mr.MergedInto(ctx, src)
	if err != nil {
		return false, r.vendorFailure(ctx, src, "look up the merge of "+src.String(), err)
	}
	if !ok {
		return false, nil
	}
	r.out.Decision = DecisionMerged
	r.out.Reason = fmt.Sprintf("%s was merged into %s", src, survivor)
	return true, r.repoint(ctx, survivor, src)
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
