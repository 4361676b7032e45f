package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Preview is what resolving a record now would do — "will this record
// sync, and why (not)" — answered by the engine's own read and decision
// with nothing applied: no write, no link, no ledger, no sync error.
type Preview struct {
	Record   crmsync.RecordRef `json:"record"`
	Decision Decision          `json:"decision"`
	Reason   string            `json:"reason"`
	Notes    []string          `json:"notes,omitempty"`
	// Writes are the writes the resolution would make.
	Writes []Write `json:"writes,omitempty"`
	// Error is the sync error it would set (a refusal or a failure).
	Error *crmsync.SyncError `json:"error,omitempty"`
	// Retry says why it would be retried instead.
	Retry string `json:"retry,omitempty"`
	// Linked is the record on the other side the resolution would link
	// to (an existing one: zero when it would create it, or link none).
	Linked crmsync.RecordRef `json:"linked,omitzero"`
}

// Preview reads ref and its counterpart as a resolution would and
// returns the decision, applying nothing. It costs the reads of a
// resolution. Errors are the store's or a setting's; a vendor failure is
// the preview's Retry or Error, as it would be the resolution's.
func (e *Engine) Preview(ctx context.Context, ref crmsync.RecordRef) (Preview, error) {
	settings, err := e.Settings(ctx)
	if err != nil {
		return Preview{Record: ref}, err
	}
	return e.previewWith(ctx, settings, ref, &prefetch{})
}

// previewWith is Preview under settings, with what a page read ahead
// (pre).
func (e *Engine) previewWith(ctx context.Context, settings crmsync.Settings, ref crmsync.RecordRef, pre *prefetch) (Preview, error) {
	out := Preview{Record: ref}
	if err := ref.Validate(); err != nil {
		return out, err
	}
	p, ok := pairFor(ref, settings)
	switch {
	case ref.Object.IsActivity():
		out.Decision, out.Reason = DecisionSkipped, fmt.Sprintf("%s is an activity: it has no eligibility of its own (it becomes a Task when its type is on and its contact syncs; see crmsync explain on the activity)", ref.Object)
		return out, nil
	case !ok:
		out.Decision, out.Reason = DecisionSkipped, fmt.Sprintf("object type %s is not synced by this version", ref.Object)
		return out, nil
	case !p.enabled:
		out.Decision, out.Reason = DecisionSkipped, fmt.Sprintf("%s sync is off in the settings", p.name)
		return out, nil
	}
	j := &job{t: crmsync.Trigger{Record: ref, Kind: crmsync.KindManualResync, OccurredAt: e.now(), DedupeKey: "preview"},
		settings: settings, pair: p}
	l, err := e.Store.GetLink(ctx, ref)
	switch {
	case err == nil:
		j.link = &l
	case !errors.Is(err, crmsync.ErrNotFound):
		return out, fmt.Errorf("get link: %w", err)
	}
	f, err := e.read(ctx, j, pre)
	plan := decide(f)
	if err != nil {
		plan = failureOf(f, err)
	}
	return previewOf(out, plan), nil
}

// previewOf describes a plan.
func previewOf(out Preview, p Plan) Preview {
	out.Decision, out.Reason, out.Notes, out.Error = p.Decision, p.Reason, p.Notes, p.Error
	if other := p.Link.Next.Ref(out.Record.Side.Other()); other.ID != "" && p.Retry == nil && !p.failed() {
		out.Linked = other
	}
	if p.Retry != nil {
		out.Retry = p.Retry.Error()
	}
	if w := p.Writes.Create; w != nil {
		out.Writes = append(out.Writes, Write{Op: "create", Ref: w.Ref, Properties: w.Props})
	}
	for _, w := range p.Writes.Updates {
		out.Writes = append(out.Writes, Write{Op: "update", Ref: w.Ref, Properties: w.Props})
	}
	if ch := p.Writes.Account; ch != nil {
		out.Writes = append(out.Writes, Write{Op: "associate", Ref: p.Link.Next.HubSpot, Properties: map[string]string{string(crmsync.HSCompany): ch.ToID}})
	}
	if !p.Writes.Delete.IsZero() {
		out.Writes = append(out.Writes, Write{Op: "delete", Ref: p.Writes.Delete})
	}
	return out
}
