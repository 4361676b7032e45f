package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// decideGone handles a record of the pair that could not be read. One the
// integration user cannot see (it was not deleted) is a Permissions
// refusal, never "source gone": nothing is marked or deleted. A gone source merged into another record re-points or
// retires its link; otherwise the link is marked, and the linked record is
// deleted only with the mirror delete policy and only when the vendor said
// the source was deleted. A linked record that is gone is never recreated.
func decideGone(f *facts) Plan {
	src, gone := f.src(), f.found.gone.ref
	if f.found.gone.invisible {
		return refusal(f, crmsync.ReasonNotVisible, fmt.Sprintf("%s is not visible to the integration user: Salesforce does not return it, and it was not deleted", gone))
	}
	if gone != src {
		p := Plan{Decision: DecisionSourceGone, Reason: fmt.Sprintf("the linked record %s no longer exists or is not visible", gone)}
		markGone(f, &p, gone)
		return p
	}
	p := Plan{Decision: DecisionSourceGone, Reason: fmt.Sprintf("%s no longer exists or is not visible", src)}
	if deletedByVendor(f.t) {
		p.Reason = fmt.Sprintf("%s was deleted (%s)", src, f.t.Kind)
	}
	if f.link == nil || f.link.Status == crmsync.LinkPending {
		p.Ledger.Result = "source gone"
		return p
	}
	if !f.found.gone.survivor.IsZero() {
		return decideMergedAway(f)
	}
	if other := f.link.Ref(src.Side.Other()); f.settings.Deletes == crmsync.DeleteMirror && deletedByVendor(f.t) && !other.IsZero() {
		p.Writes.Delete = other
		p.Notes = append(p.Notes, fmt.Sprintf("deletes mirror: deleted %s", other))
	}
	markGone(f, &p, src)
	return p
}

// markGone marks the link deleted on gone's side. The first deletion is
// the one the link keeps: when a mirrored delete (or a later delete of the
// other record) comes back, the link still says which side went first.
func markGone(f *facts, p *Plan, gone crmsync.RecordRef) {
	if prev := f.link.Status; prev == crmsync.LinkDeletedHubSpot || prev == crmsync.LinkDeletedSalesforce {
		p.Ledger.Result = "already marked " + string(prev)
		return
	}
	next := *f.link
	next.Status = deletedStatus(gone.Side)
	next.UpdatedAt = f.now
	p.Link.Next, p.Link.Store = next, true
	p.Ledger.Result = "link marked " + string(next.Status)
}

func deletedStatus(s crmsync.Side) crmsync.LinkStatus {
	if s == crmsync.Salesforce {
		return crmsync.LinkDeletedSalesforce
	}
	return crmsync.LinkDeletedHubSpot
}

// deletedByVendor reports whether the trigger says the vendor deleted the
// record (as opposed to a record that is merely not found, which may be a
// sharing change): only such deletes are mirrored.
func deletedByVendor(t crmsync.Trigger) bool {
	return t.Kind == crmsync.KindDeleted || t.Kind == crmsync.KindPrivacyDeleted
}

// decideMergedAway re-points (or retires) the link of a source that the
// vendor merged into another record (Salesforce's MasterRecordId).
func decideMergedAway(f *facts) Plan {
	src, survivor := f.src(), f.found.gone.survivor
	next, note := repoint(*f.link, src, survivor, f.found.gone.survivorLinked, f.now)
	return Plan{Decision: DecisionMerged, Reason: fmt.Sprintf("%s was merged into %s", src, survivor),
		Link: linkPlan{Next: next, Store: true}, Notes: []string{note}, ClearError: true,
		Ledger: ledgerPlan{Target: next.Ref(survivor.Side.Other()), Result: "merged"}}
}

// repoint moves the link of loser (merged into survivor) to survivor when
// the survivor has no link, so its counterpart keeps syncing with the
// survivor and nothing is created again; when the survivor is already
// linked, the loser's link is marked deleted on the merged side (its
// counterpart is left alone, as for any delete). Pure.
func repoint(l crmsync.Link, loser, survivor crmsync.RecordRef, survivorLinked bool, now time.Time) (crmsync.Link, string) {
	next := l
	next.UpdatedAt = now
	if survivorLinked {
		next.Status = deletedStatus(survivor.Side)
		return next, fmt.Sprintf("%s was merged into %s, which is already linked: link marked %s", loser, survivor, next.Status)
	}
	next = linkWith(next, survivor)
	return next, fmt.Sprintf("%s was merged into %s: link re-pointed to %s", loser, survivor, survivor)
}

// repointMerged re-points the links of the records merged into the
// trigger's record (HubSpot merge webhooks: the record is the survivor,
// MergedIDs the losers), each with its own ledger entry; see repoint.
func (e *Engine) repointMerged(ctx context.Context, j *job) error {
	survivor := j.t.Record
	for _, id := range j.t.MergedIDs {
		loser := crmsync.RecordRef{Side: survivor.Side, Object: survivor.Object, ID: id}
		ll, err := e.Store.GetLink(ctx, loser)
		if errors.Is(err, crmsync.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get link of merged %s: %w", loser, err)
		}
		_, err = e.Store.GetLink(ctx, survivor)
		if err != nil && !errors.Is(err, crmsync.ErrNotFound) {
			return fmt.Errorf("get link of %s: %w", survivor, err)
		}
		next, note := repoint(ll, loser, survivor, err == nil, e.now())
		updated, err := e.Store.UpdateLink(ctx, next)
		if errors.Is(err, crmsync.ErrVersionConflict) || errors.Is(err, crmsync.ErrConflict) {
			return errRetry{"link of merged " + loser.String() + " changed while re-pointing it"}
		}
		if err != nil {
			return fmt.Errorf("re-point link of merged %s: %w", loser, err)
		}
		j.notes = append(j.notes, note)
		entry := crmsync.LedgerEntry{LinkID: updated.ID, At: e.now(), Trigger: j.t, Target: updated.Ref(survivor.Side.Other()),
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
