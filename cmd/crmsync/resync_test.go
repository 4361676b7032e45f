package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

var enqueuedLine = regexp.MustCompile(`(?m)^enqueued  (\S+)\s+manual_resync  dedupe key ([0-9a-f]{64})$`)

// printed returns record key → dedupe key of every "enqueued" line.
func printed(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, g := range enqueuedLine.FindAllStringSubmatch(out, -1) {
		m[g[1]] = g[2]
	}
	return m
}

// receiveAll receives until n triggers arrived (fauxqs returns one message
// per group per call) or a minute passed, deleting each.
func receiveAll(t *testing.T, q crmsync.Queue, n int) []crmsync.Trigger {
	t.Helper()
	ctx := context.Background()
	var got []crmsync.Trigger
	for deadline := time.Now().Add(time.Minute); len(got) < n && time.Now().Before(deadline); {
		ms, err := q.Receive(ctx, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			got = append(got, m.Trigger)
			if err := q.Delete(ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

// checkEnqueued checks the triggers are manual resyncs of exactly the
// records printed, with the printed dedupe keys.
func checkEnqueued(t *testing.T, out string, got []crmsync.Trigger, want ...crmsync.RecordRef) {
	t.Helper()
	keys := printed(t, out)
	if len(keys) != len(want) {
		t.Fatalf("printed %d enqueued records, want %d:\n%s", len(keys), len(want), out)
	}
	if len(got) != len(want) {
		t.Fatalf("queue holds %d triggers, want %d: %+v", len(got), len(want), got)
	}
	byRecord := map[crmsync.RecordRef]crmsync.Trigger{}
	for _, tr := range got {
		byRecord[tr.Record] = tr
	}
	for _, ref := range want {
		tr, ok := byRecord[ref]
		if !ok {
			t.Errorf("no trigger for %s in %+v", ref, got)
			continue
		}
		if tr.Kind != crmsync.KindManualResync || tr.DedupeKey != keys[ref.Key()] || tr.OccurredAt.IsZero() {
			t.Errorf("trigger %+v, want manual_resync with printed key %q", tr, keys[ref.Key()])
		}
	}
}

// The local path end to end: the admin handler of the local stack over a
// localqueue and the store the engine filled; the engine then resolves
// what was enqueued, so an errored record that was fixed syncs.
func TestResyncLocal(t *testing.T) {
	ctx := context.Background()
	f := fillStore(t)
	st := openState(t, f.path)
	q := localqueue.New(localqueue.Options{ReceiveWait: -1})
	mux := http.NewServeMux()
	mux.Handle(localstack.AdminPath, &localstack.Admin{Queue: q, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var out bytes.Buffer
	if err := run(ctx, []string{"resync", "-local", srv.URL, "hubspot", "contact", f.synced.ID}, &out); err != nil {
		t.Fatalf("resync: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 enqueued to local stack "+srv.URL) {
		t.Errorf("output: %s", out.String())
	}
	checkEnqueued(t, out.String(), receiveAll(t, q, 1), f.synced)

	// A second resync of the record is not dropped as a repeat.
	out.Reset()
	if err := run(ctx, []string{"resync", "-local", srv.URL, "hubspot", "contact", f.synced.ID}, &out); err != nil {
		t.Fatal(err)
	}
	checkEnqueued(t, out.String(), receiveAll(t, q, 1), f.synced)

	// The duplicate rule was relaxed in Salesforce: retry the Duplicates
	// errors by hand, and the worker syncs the record.
	f.sf.Fail = nil
	out.Reset()
	if err := run(ctx, []string{"resync", "-local", srv.URL, "-errors", "-category", "Duplicates"}, &out); err != nil {
		t.Fatalf("resync -errors: %v\n%s", err, out.String())
	}
	got := receiveAll(t, q, 1)
	checkEnqueued(t, out.String(), got, f.duplicate)
	res, err := f.newEngine(st).Resolve(ctx, got[0])
	if err != nil || res.Decision != engine.DecisionSynced {
		t.Fatalf("resolving the manual resync: %+v, %v", res, err)
	}
	if _, err := st.GetSyncError(ctx, f.duplicate); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("sync error of %s after the resync synced it: %v", f.duplicate, err)
	}
	// explain shows the hand-made resync and its write.
	x, err := localstack.Explain(ctx, st, f.duplicate, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	printExplanation(&text, x, time.Now())
	for _, want := range []string{"status active", "sync error  none",
		"trigger manual_resync on " + f.duplicate.String() + "  delivery " + crmsync.DeliveryResyncErrors, "result    created"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("explain after the resync lacks %q:\n%s", want, text.String())
		}
	}

	// All errors: only the no-email contact is left.
	out.Reset()
	if err := run(ctx, []string{"resync", "-errors", "-local", srv.URL}, &out); err != nil {
		t.Fatal(err)
	}
	checkEnqueued(t, out.String(), receiveAll(t, q, 1), f.noEmail)

	// Nothing in a category: says so, enqueues nothing.
	out.Reset()
	if err := run(ctx, []string{"resync", "-errors", "-category", "permissions", "-local", srv.URL}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no records with Permissions sync errors") {
		t.Errorf("output: %s", out.String())
	}
	if ms, err := q.Receive(ctx, 10, time.Minute); err != nil || len(ms) != 0 {
		t.Errorf("after resync of an empty category the queue holds %+v (%v)", ms, err)
	}
}

func TestResyncLocalStackNotRunning(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"resync", "-local", url, "hubspot", "contact", "1"}, &out)
	var u usageError
	if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "is crmsync local running") {
		t.Fatalf("resync to a closed port = %v", err)
	}
}

func TestResyncUsage(t *testing.T) {
	t.Setenv("TRIGGER_QUEUE_URL", "")
	data := filepath.Join(t.TempDir(), "s.db")
	const local = "http://127.0.0.1:1"
	for _, args := range [][]string{
		{"resync"},
		{"resync", "-local", local, "hubspot", "contact"},
		{"resync", "-local", local, "zoho", "contact", "1"},
		{"resync", "-local", local, "hubspot", "Lead", "1"},
		{"resync", "-local", local, "salesforce", "contact", ""},
		{"resync", "-local", local, "-errors", "hubspot", "contact", "1"},
		{"resync", "-local", local, "-category", "Duplicates", "hubspot", "contact", "1"},
		{"resync", "-local", local, "-errors", "-category", "Typos"},
		{"resync", "hubspot", "contact", "1"}, // no queue at all
		{"resync", "-local", local, "-queue-url", "https://sqs.example/q.fifo", "hubspot", "contact", "1"},
		{"resync", "-local", local, "-data", data, "-errors"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, &out)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%q = %v, want a usage error", args, err)
		}
	}
}

// The SQS path against fauxqs: the AWS configuration comes from the
// environment, CRMSYNC_SQS_ENDPOINT points it at fauxqs, and the queue URL
// from -queue-url or $TRIGGER_QUEUE_URL.
func TestResyncSQS(t *testing.T) {
	ctx := context.Background()
	client := fauxqsEnv(t, "crmsync resync (cmd/crmsync)")
	queueURL, _ := fauxqsQueue(t, client, "crmsync-resync-test-", 5)
	q := sqsqueue.New(client, queueURL)

	var out bytes.Buffer
	lead := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00Q000000000042"}
	if err := run(ctx, []string{"resync", "-queue-url", queueURL, "salesforce", "Lead", lead.ID}, &out); err != nil {
		t.Fatalf("resync: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 enqueued to SQS queue "+queueURL) {
		t.Errorf("output: %s", out.String())
	}
	checkEnqueued(t, out.String(), receiveAll(t, q, 1), lead)

	// Every errored record of a store the engine filled, queue from the
	// environment.
	f := fillStore(t)
	t.Setenv("TRIGGER_QUEUE_URL", queueURL)
	out.Reset()
	if err := run(ctx, []string{"resync", "-errors", "-data", f.path}, &out); err != nil {
		t.Fatalf("resync -errors: %v\n%s", err, out.String())
	}
	checkEnqueued(t, out.String(), receiveAll(t, q, 2), f.noEmail, f.duplicate)
}
