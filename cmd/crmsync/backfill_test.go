package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
)

// crmsync plan -backfill and crmsync backfill through a running stack:
// the plan writes nothing and says what the backfill then does.
func TestBackfillThroughTheStack(t *testing.T) {
	ctx := context.Background()
	st := openState(t, filepath.Join(t.TempDir(), "state.db"))
	stack, err := localstack.Start(ctx, localstack.Config{Store: st, Queue: localqueue.New(localqueue.Options{}), NoWebhooks: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	for i := range 30 {
		if _, err := stack.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": fmt.Sprintf("b%d@example.com", i), "lastname": "B", "company": "C"}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"plan", "-backfill", "-local", stack.ReceiverURL, "-size", "20"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"30 records read, nothing written", "create salesforce/Lead", "calls       HubSpot"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, out.String())
		}
	}
	if n := len(stack.Salesforce.Records("Lead")); n != 0 {
		t.Fatalf("the plan wrote %d leads", n)
	}
	out.Reset()
	if err := run(ctx, []string{"backfill", "-size", "20", "-local", stack.ReceiverURL}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "backfill done on local stack") || !strings.Contains(out.String(), "synced 30") {
		t.Errorf("backfill output:\n%s", out.String())
	}
	if n := len(stack.Salesforce.Records("Lead")); n != 30 {
		t.Errorf("%d leads after the backfill, want 30", n)
	}
	// Run again: the backfill is done; it says so and writes nothing.
	// -restart begins a new one: every record is already linked (and
	// unchanged), so it writes nothing either.
	for _, args := range [][]string{{"backfill", "-local", stack.ReceiverURL}, {"backfill", "-restart", "-local", stack.ReceiverURL}} {
		out.Reset()
		if err := run(ctx, args, &out); err != nil || !strings.Contains(out.String(), "backfill done") {
			t.Errorf("%v: %v\n%s", args, err, out.String())
		}
		if n := len(stack.Salesforce.Records("Lead")); n != 30 {
			t.Errorf("%v: %d leads, want 30", args, n)
		}
	}
	// plan -resync: one record whose lead changed while nothing told
	// crmsync, and every errored record (none).
	lead := stack.Salesforce.Records("Lead")[0]
	if err := stack.Salesforce.UpdateAs("", lead["Id"].(string), map[string]any{"Title": "Chief"}); err != nil {
		t.Fatal(err)
	}
	l, err := st.GetLink(ctx, crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: lead["Id"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]string{
		"plan -resync -local " + stack.ReceiverURL + " hubspot contact " + l.HubSpot.ID: "writes      update hubspot/contact",
		"plan -resync -errors -local " + stack.ReceiverURL:                              "resync on local stack " + stack.ReceiverURL + ": 0 records read",
	} {
		var pout bytes.Buffer
		if err := run(ctx, strings.Fields(args), &pout); err != nil || !strings.Contains(pout.String(), want) {
			t.Errorf("%s: %v, want %q in\n%s", args, err, want, pout.String())
		}
	}
	if !strings.Contains(out.String(), "no_change 60") {
		t.Errorf("-restart resolves every record of both sides again and finds nothing to write:\n%s", out.String())
	}
}
