package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/health"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
)

// crmsync health prints the Sync Health data from the store, and from a
// running stack (with the queue's state).
func TestHealthCommand(t *testing.T) {
	f := fillStore(t) // one refusal left (no email), one vendor failure (duplicates)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"health", "-data", f.path}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"Sync Health of bbolt " + f.path, "errors      ", "Duplicates", "queue counts unknown", "syncing     Contacts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	ctx := context.Background()
	st := openState(t, filepath.Join(t.TempDir(), "state.db"))
	if err := st.PutSyncError(ctx, crmsync.NotEligible(crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "9"},
		crmsync.ReasonNoEmail, "no email", f.now())); err != nil {
		t.Fatal(err)
	}
	stack, err := localstack.Start(ctx, localstack.Config{Store: st, Queue: localqueue.New(localqueue.Options{}),
		NoWebhooks: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	out.Reset()
	if err := run(ctx, []string{"health", "-json", "-local", stack.ReceiverURL}, &out); err != nil {
		t.Fatal(err)
	}
	var r health.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Queue.Visible == nil {
		t.Errorf("the running stack's queue state is missing: %+v", r.Queue)
	}
	n := 0
	for _, c := range r.Cards {
		n += c.Records
	}
	if n != 1 {
		t.Errorf("%d records on the cards, want the one refusal", n)
	}
}
