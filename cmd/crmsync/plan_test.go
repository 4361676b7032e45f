package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
)

// crmsync plan dry-runs a settings change through the running stack: a
// HubSpot title the default rule refuses would be written under Two-way;
// nothing is written by the plan.
func TestPlanThroughTheStack(t *testing.T) {
	ctx := context.Background()
	st := openState(t, filepath.Join(t.TempDir(), "state.db"))
	stack, err := localstack.Start(ctx, localstack.Config{Store: st, Queue: localqueue.New(localqueue.Options{}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	c, err := stack.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "plan@example.com", "lastname": "Plan", "company": "P"})
	if err != nil {
		t.Fatal(err)
	}
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID}
	l := waitLink(t, st, ref)
	if err := stack.Salesforce.UpdateAs("", l.Salesforce.ID, map[string]any{"Title": "Old"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		o, _ := stack.HubSpot.Object(crmsync.HSContact, c.ID)
		return o.Properties["jobtitle"] == "Old"
	})
	if _, err := stack.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"jobtitle": "New"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the refused change resolves
	var out bytes.Buffer
	if err := run(ctx, []string{"settings", "export", "-local", stack.ReceiverURL}, &out); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "two-way.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(out.String(), "prefer_salesforce_unless_blank", "two_way")), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"plan", "-local", stack.ReceiverURL, file}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"1 linked pairs read, nothing written", "update salesforce/Lead", "field     salesforce Title", "calls       HubSpot 0, Salesforce 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, out.String())
		}
	}
	if rec := stack.Salesforce.Records("Lead")[0]; rec["Title"] != "Old" {
		t.Errorf("the plan wrote: Title %v", rec["Title"])
	}
}

func waitLink(t *testing.T, st crmsync.Store, ref crmsync.RecordRef) crmsync.Link {
	t.Helper()
	var l crmsync.Link
	waitFor(t, func() bool {
		var err error
		l, err = st.GetLink(context.Background(), ref)
		return err == nil && !l.Salesforce.IsZero()
	})
	return l
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
