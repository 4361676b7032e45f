package backfill_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

// flakyCheckpoints fails the checkpoint write once (the process dies
// between resolving a page and storing where it is).
type flakyCheckpoints struct {
	backfill.Checkpoints
	fail bool
}

func (f *flakyCheckpoints) ReleaseLease(ctx context.Context, name, owner, checkpoint string) error {
	if f.fail {
		f.fail = false
		return errors.New("store unavailable")
	}
	return f.Checkpoints.ReleaseLease(ctx, name, owner, checkpoint)
}

// An interrupted backfill resumes where it stopped: a page resolved whose
// checkpoint was lost runs again without creating anything twice (its
// records are linked by this backfill already: skipped; were they not
// yet, their dedupe keys would drop them), and a new process takes over
// at the stored position instead of starting over.
func TestBackfillResumesWhereItStopped(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 100_000, true, nil)
	w.contacts(t, 0, 1000)
	w.job.Size = 100
	first := w.job
	for range 3 { // the Salesforce targets (empty), then a page of contacts
		if _, err := first.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	flaky := &flakyCheckpoints{Checkpoints: w.store, fail: true}
	first.Checkpoints = flaky
	if _, err := first.Step(ctx); err == nil {
		t.Fatal("the lost checkpoint is not reported")
	}
	if n := len(w.org.Records("Lead")); n != 200 {
		t.Fatalf("%d leads after two pages of contacts, want 200", n)
	}
	// The same process again: the page runs again, nothing twice.
	p, err := first.Step(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.org.Records("Lead")); n != 200 || p.Skipped != 100 || p.Done != 200 || p.Decisions[engine.DecisionSynced] != 100 {
		t.Fatalf("%d leads, %d done, %d skipped, decisions %v: want 200, 200, the page's 100 skipped as linked by this backfill",
			n, p.Done, p.Skipped, p.Decisions)
	}
	// Another process takes over at the checkpoint.
	second := *first
	second.Owner, second.Checkpoints = "another process", w.store
	pages := 0
	p, err = second.Run(ctx, time.Minute, backfill.Sleep, func(backfill.Progress) { pages++ })
	if err != nil || !p.Finished {
		t.Fatalf("%+v %v", p, err)
	}
	if pages != 8 {
		t.Errorf("%d pages after taking over, want the 8 left", pages)
	}
	if n := len(w.org.Records("Lead")); n != 1000 || p.Done != 1000 {
		t.Errorf("%d leads, %d done; want 1000 of each", n, p.Done)
	}
	unlinked := 0
	for _, c := range w.hsFake.Records(crmsync.HSContact) {
		if _, err := w.store.GetLink(ctx, c.Ref); err != nil {
			unlinked++
		}
	}
	if unlinked > 0 {
		t.Errorf("%d contacts not linked", unlinked)
	}
}
