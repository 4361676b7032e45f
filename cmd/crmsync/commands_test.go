package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/health"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

// Every command's -h prints its help and succeeds, wherever -h stands.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	for _, c := range commands() {
		name := strings.Fields(c.name)
		for _, args := range [][]string{
			append(append([]string{}, name...), "-h"),
			append(append([]string{}, name...), "--help"),
			append(append([]string{}, name...), "hubspot", "contact", "-h"), // after arguments
			append([]string{"help"}, name...),
		} {
			var out bytes.Buffer
			if err := run(context.Background(), args, &out); err != nil {
				t.Errorf("%q = %v, want nil", args, err)
			}
			if !strings.HasPrefix(out.String(), "usage:") || !strings.Contains(out.String(), "crmsync "+c.name) {
				t.Errorf("%q printed no help of %s:\n%s", args, c.name, out.String())
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"settings", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out); err != nil || !strings.Contains(out.String(), "commands:") {
			t.Errorf("%q = %v:\n%s", args, err, out.String())
		}
	}
}

func TestUnknownCommandsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"settings", "frobnicate"}, `unknown command "settings frobnicate"`},
		{[]string{"settings"}, "settings: no command"},
		{[]string{"errors", "-frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"errors", "extra"}, `unexpected argument "extra"`},
		{[]string{"explain", "hubspot", "contact"}, "want <side> <object> <id>"},
		{[]string{"version", "now"}, `unexpected argument "now"`},
	} {
		var out bytes.Buffer
		err := run(context.Background(), tc.args, &out)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q = %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "crmsync ") {
		t.Errorf("version = %q", out.String())
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/crmsync/crmsync", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "2177e8c"}, {Key: "vcs.time", Value: "2026-12-03T09:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionLine(bi, true), "crmsync github.com/crmsync/crmsync v1.2.3 revision 2177e8c (2026-12-03T09:00:00Z) with local changes go1.26.8"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	bi.Settings = nil
	if got := versionLine(bi, true); !strings.Contains(got, "revision unknown") {
		t.Errorf("versionLine without VCS = %q", got)
	}
}

// make run twice in a row on one data file: each run shows a clean sync
// of the demo contact (a create in Salesforce, nothing stale: no
// source_gone, no refusal, no error), and settings imported between the
// runs are kept.
func TestLocalSandboxTwiceOnOneFile(t *testing.T) {
	data := filepath.Join(t.TempDir(), "state.db")
	args := []string{"local", "--sandbox", "-once", "-data", data, "-sweep-every", "0",
		"-addr", "127.0.0.1:0", "-hubspot-addr", "127.0.0.1:0", "-salesforce-addr", "127.0.0.1:0"}
	for i := range 2 {
		var out syncBuffer
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		for _, want := range []string{"fresh: the simulated CRMs start empty", "→ synced", "create salesforce/Lead/",
			"objects     contacts on", "0 refusals · 0 errors"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %d: output lacks %q:\n%s", i+1, want, out.String())
			}
		}
		for _, bad := range []string{"source_gone", markRefused, markError, "update salesforce/Lead/"} {
			if strings.Contains(out.String(), bad) {
				t.Errorf("run %d: output has %q:\n%s", i+1, bad, out.String())
			}
		}
		if i == 1 && !strings.Contains(out.String(), "companies on") {
			t.Errorf("run 2 lost the settings imported after run 1:\n%s", out.String())
		}
		if i == 0 {
			f := filepath.Join(t.TempDir(), "settings.yaml")
			var o bytes.Buffer
			if err := run(context.Background(), []string{"settings", "export", "-data", data, "-o", f}, &o); err != nil {
				t.Fatal(err)
			}
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, []byte(strings.Replace(string(text), "companies: false", "companies: true", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := run(context.Background(), []string{"settings", "import", "-data", data, f}, &o); err != nil {
				t.Fatalf("import between runs: %v\n%s", err, o.String())
			}
		}
	}
}

// The sandbox empties its data file at start, so it refuses a file that
// holds a real org's state, and a real run refuses the sandbox's file.
func TestLocalDataFileBelongsToItsCRMs(t *testing.T) {
	data := filepath.Join(t.TempDir(), "state.db")
	if err := setOwner(data, "Salesforce org 00D000000000001"); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	err := run(context.Background(), []string{"local", "--sandbox", "-once", "-data", data,
		"-addr", "127.0.0.1:0", "-hubspot-addr", "127.0.0.1:0", "-salesforce-addr", "127.0.0.1:0"}, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "Salesforce org 00D000000000001") {
		t.Fatalf("sandbox on a real org's file = %v", err)
	}
	if owner, err := fileOwner(data); err != nil || owner != "Salesforce org 00D000000000001" {
		t.Fatalf("the real org's file was touched: owner %q, %v", owner, err)
	}
	if err := setOwner(data, ownerSandbox); err != nil {
		t.Fatal(err)
	}
	if err := claimStore(data, "Salesforce org 00D000000000001"); !errors.As(err, &u) || !strings.Contains(err.Error(), "sandbox") {
		t.Fatalf("a real org claiming the sandbox's file = %v", err)
	}
}

// While a running stack holds the data file, settings, errors and explain
// reach it through its admin routes by themselves.
func TestCommandsReachTheRunningStack(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "state.db")
	st := openState(t, data)
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "7"}
	if err := st.PutSyncError(ctx, crmsync.NotEligible(ref, crmsync.ReasonNoEmail, "no email", time.Now())); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(data)
	stack, err := localstack.Start(ctx, localstack.Config{Store: st, Queue: localqueue.New(localqueue.Options{}), DataFile: abs,
		NoWebhooks: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	t.Setenv("CRMSYNC_LOCAL", stack.ReceiverURL)

	var out bytes.Buffer
	if err := run(ctx, []string{"errors", "-data", data}, &out); err != nil {
		t.Fatalf("errors: %v", err)
	}
	if !strings.Contains(out.String(), "1 sync error in running local stack "+stack.ReceiverURL) || !strings.Contains(out.String(), "hubspot/contact/7") {
		t.Errorf("errors through the stack:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"explain", "hubspot", "contact", "7", "-data", data}, &out); err != nil {
		t.Fatalf("explain: %v", err)
	}
	if !strings.Contains(out.String(), "reason no_email") {
		t.Errorf("explain through the stack:\n%s", out.String())
	}

	file := filepath.Join(t.TempDir(), "settings.yaml")
	if err := run(ctx, []string{"settings", "export", "-data", data, "-o", file}, &out); err != nil {
		t.Fatalf("export: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "deals: false", "deals: true", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"settings", "import", file, "-data", data}, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if s, err := st.GetSettings(ctx); err != nil || !s.Objects.Deals || s.Version != 1 {
		t.Errorf("stored settings after import through the stack = %+v, %v", s.Objects, err)
	}
	// The same file again: the stack refuses it as stale.
	if err := run(ctx, []string{"settings", "import", file, "-data", data}, &out); err == nil || !strings.Contains(err.Error(), "export again") {
		t.Errorf("stale import through the stack = %v", err)
	}

	// Another file, held by no stack that serves at CRMSYNC_LOCAL: the
	// command says what to do.
	other := filepath.Join(t.TempDir(), "other.db")
	openState(t, other)
	if err := run(ctx, []string{"errors", "-data", other}, &out); err == nil || !strings.Contains(err.Error(), "pass -local") {
		t.Errorf("errors on a file held by another stack = %v", err)
	}
}

// resync -list enqueues every member of a HubSpot list through the
// running stack, page after page.
func TestResyncListLocal(t *testing.T) {
	ctx := context.Background()
	portal := hubspotsim.New(hubspotsim.Config{})
	hsSrv := httptest.NewServer(portal)
	defer hsSrv.Close()
	hs, err := hubspot.NewClient(hubspot.WithBaseURL(hsSrv.URL), hubspot.WithPrivateAppToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 230 { // three pages of 100
		c, err := portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "m" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if i%10 != 0 { // not every contact is in the list
			portal.AddToList("42", crmsync.HSContact, c.ID)
			want[c.ID] = true
		}
	}
	q := localqueue.New(localqueue.Options{ReceiveWait: -1})
	mux := http.NewServeMux()
	mux.Handle(localstack.AdminPath, &localstack.Admin{Queue: q, Lists: hs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var out bytes.Buffer
	if err := run(ctx, []string{"resync", "-list", "42", "-local", srv.URL}, &out); err != nil {
		t.Fatalf("resync -list: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "207 members of HubSpot list 42 (contact) enqueued") || !strings.Contains(out.String(), "list 42: 100 enqueued") {
		t.Errorf("output:\n%s", out.String())
	}
	got := receiveAll(t, q, len(want))
	for _, tr := range got {
		if !want[tr.Record.ID] || tr.Record.Object != crmsync.HSContact || tr.Kind != crmsync.KindManualResync || tr.DeliveryID != crmsync.DeliveryResyncList {
			t.Errorf("unexpected trigger %+v", tr)
		}
		delete(want, tr.Record.ID)
	}
	if len(want) != 0 {
		t.Errorf("%d members not enqueued", len(want))
	}
	if err := run(ctx, []string{"resync", "-list", "404", "-local", srv.URL}, &out); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("resync of an unknown list = %v", err)
	}
}

// redrive -local moves the running stack's dead letters back, by time.
func TestRedriveLocal(t *testing.T) {
	ctx := context.Background()
	q := localqueue.New(localqueue.Options{MaxReceives: 1, ReceiveWait: -1, Visibility: time.Millisecond})
	mux := http.NewServeMux()
	mux.Handle(localstack.AdminPath, &localstack.Admin{Queue: q, Redrive: q.Redrive, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "9"}
	if err := q.Send(ctx, []crmsync.Trigger{health.ResyncTrigger(ref, time.Now())}); err != nil {
		t.Fatal(err)
	}
	for range 3 { // received once, then dead-lettered
		if _, err := q.Receive(ctx, 10, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st, _ := q.DeadLetters().Stats(ctx); st.Visible != 1 {
		t.Fatalf("dead letters: %+v, want 1", st)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"redrive", "-local", srv.URL, "-until", "1h"}, &out); err != nil || !strings.Contains(out.String(), "redrove 0 ") {
		t.Fatalf("redrive of triggers dead-lettered over an hour ago = %v:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"redrive", "-since", "10m", "-local", srv.URL}, &out); err != nil || !strings.Contains(out.String(), "redrove 1 dead-lettered trigger ") {
		t.Fatalf("redrive = %v:\n%s", err, out.String())
	}
	if got := receiveAll(t, q, 1); len(got) != 1 || got[0].Record != ref {
		t.Errorf("queue after redrive: %+v", got)
	}
	for _, args := range [][]string{
		{"redrive"},
		{"redrive", "-local", srv.URL, "-since", "yesterday"},
		{"redrive", "-local", srv.URL, "-since", "1h", "-until", "2h"},
		{"redrive", "-local", srv.URL, "-queue-url", "https://sqs.example/q.fifo"},
	} {
		t.Setenv("TRIGGER_QUEUE_URL", "")
		var u usageError
		if err := run(ctx, args, &out); !errors.As(err, &u) {
			t.Errorf("%q = %v, want a usage error", args, err)
		}
	}
}

// redrive -queue-url against fauxqs: the dead-letter queue is found from
// the queue's redrive policy.
func TestRedriveSQS(t *testing.T) {
	ctx := context.Background()
	t.Setenv("TRIGGER_DEAD_LETTER_QUEUE_URL", "")
	client := fauxqsEnv(t, "crmsync redrive (cmd/crmsync)")
	queueURL, dlqURL := fauxqsQueue(t, client, "crmsync-redrive-test-", 1)
	q := sqsqueue.New(client, queueURL)
	ref := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: "00Q000000000077"}
	if err := q.Send(ctx, []crmsync.Trigger{health.ResyncTrigger(ref, time.Now())}); err != nil {
		t.Fatal(err)
	}
	dead := sqsqueue.New(client, dlqURL)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("not dead-lettered within 30 s")
		}
		if _, err := q.Receive(ctx, 10, time.Second); err != nil {
			t.Fatal(err)
		}
		if st, err := dead.Stats(ctx); err == nil && st.Visible == 1 {
			break
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"redrive", "-queue-url", queueURL}, &out); err != nil {
		t.Fatalf("redrive: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "redrove 1 dead-lettered trigger from "+dlqURL) {
		t.Errorf("output: %s", out.String())
	}
	if got := receiveAll(t, q, 1); len(got) != 1 || got[0].Record != ref {
		t.Errorf("queue after redrive: %+v", got)
	}
}

// Offline, validate flags mapped names that neither built-in schema knows
// and points at -online.
func TestSettingsValidateOfflineFlagsUnknownNames(t *testing.T) {
	file, text := writeSettings(t, []crmsync.FieldMapping{
		m(crmsync.HSContact, crmsync.SFLead, "email", "Email", crmsync.RuleTwoWay),
		m(crmsync.HSContact, crmsync.SFLead, "favourite_colour", "Favourite_Colour__c", crmsync.RuleTwoWay),
	})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"settings", "validate", file}, &out); err != nil {
		t.Fatalf("validate: %v", err)
	}
	line := lineOfNth(t, text, "- hubspot_object", 1)
	for _, want := range []string{
		`mappings[1].hubspot_property: HubSpot contact has no property "favourite_colour"`,
		`mappings[1].salesforce_field: Salesforce Lead has no field "Favourite_Colour__c"`,
		"2 mapped names not in the built-in schemas", "crmsync settings validate -online " + file,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "mappings[0]") || !strings.Contains(out.String(), "line "+strconv.Itoa(line+2)) {
		t.Errorf("wrong mappings or lines flagged (want line %d):\n%s", line+2, out.String())
	}
	file, _ = writeSettings(t, []crmsync.FieldMapping{m(crmsync.HSContact, crmsync.SFLead, "email", "Email", crmsync.RuleTwoWay)})
	out.Reset()
	if err := run(context.Background(), []string{"settings", "validate", file}, &out); err != nil || !strings.Contains(out.String(), "valid (offline") {
		t.Errorf("validate of known names = %v:\n%s", err, out.String())
	}
}

// fauxqsEnv points the AWS environment the CLI reads at fauxqs (skipping
// t when it is not running) and returns a client of it.
// openState opens a data file as a running crmsync local holds it, until
// the test ends.
func openState(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func fauxqsEnv(t *testing.T, suite string) *sqs.Client {
	t.Helper()
	endpoint := crmsynctest.Endpoint(t, crmsynctest.EnvSQS, "fauxqs", suite)
	awsEnv(t, "CRMSYNC_SQS_ENDPOINT", endpoint, "test")
	return sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// fauxqsQueue creates a FIFO queue and its dead-letter queue, deleted when
// t ends.
func fauxqsQueue(t *testing.T, client *sqs.Client, prefix string, maxReceives int) (queueURL, dlqURL string) {
	t.Helper()
	name := prefix + strings.ToLower(rand.Text()) + ".fifo"
	queueURL, dlqURL, err := sqsqueue.CreateFIFOQueue(context.Background(), client, name, maxReceives)
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	t.Cleanup(func() {
		for _, u := range []string{queueURL, dlqURL} {
			if _, err := client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
				t.Errorf("delete queue %s: %v", u, err)
			}
		}
	})
	return queueURL, dlqURL
}

// awsEnv makes the CLI's AWS configuration the static key (as id and
// secret) in us-east-1, with endpointVar set to endpoint and no profile or
// shared files.
func awsEnv(t *testing.T, endpointVar, endpoint, key string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(endpointVar, endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", key)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
}

// resync -list against a deployed stack: the CLI reads the list itself
// (CRMSYNC_HUBSPOT_TOKEN) and sends to SQS (fauxqs).
func TestResyncListSQS(t *testing.T) {
	client := fauxqsEnv(t, "crmsync resync -list (cmd/crmsync)")
	queueURL, _ := fauxqsQueue(t, client, "crmsync-resync-list-test-", 5)
	portal := hubspotsim.New(hubspotsim.Config{Token: simToken})
	hsSrv := httptest.NewServer(http.StripPrefix("/hubspot", portal))
	defer hsSrv.Close()
	var want []crmsync.RecordRef
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		c, err := portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": email})
		if err != nil {
			t.Fatal(err)
		}
		portal.AddToList("9", crmsync.HSContact, c.ID)
		want = append(want, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID})
	}
	t.Setenv("CRMSYNC_HUBSPOT_TOKEN", "")
	var out bytes.Buffer
	var u usageError
	if err := run(context.Background(), []string{"resync", "-list", "9", "-queue-url", queueURL}, &out); !errors.As(err, &u) {
		t.Fatalf("resync -list without a HubSpot token = %v, want a usage error", err)
	}
	t.Setenv("CRMSYNC_HUBSPOT_TOKEN", simToken)
	t.Setenv("CRMSYNC_HUBSPOT_BASE_URL", hsSrv.URL+"/hubspot")
	out.Reset()
	if err := run(context.Background(), []string{"resync", "-list", "9", "-queue-url", queueURL}, &out); err != nil {
		t.Fatalf("resync -list: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "3 members of HubSpot list 9 (contact) enqueued to SQS queue "+queueURL) {
		t.Errorf("output:\n%s", out.String())
	}
	got := receiveAll(t, sqsqueue.New(client, queueURL), len(want))
	seen := map[crmsync.RecordRef]bool{}
	for _, tr := range got {
		seen[tr.Record] = tr.Kind == crmsync.KindManualResync && tr.DeliveryID == crmsync.DeliveryResyncList
	}
	for _, r := range want {
		if !seen[r] {
			t.Errorf("no manual resync of %s in %+v", r, got)
		}
	}
}

// explain -eligibility asks the running stack's engine whether a record
// would sync and why not, changing nothing.
func TestExplainEligibilityThroughTheStack(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "state.db")
	st := openState(t, data)
	stack, err := localstack.Start(ctx, localstack.Config{Store: st, Queue: localqueue.New(localqueue.Options{}),
		NoWebhooks: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	noMail, err := stack.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"lastname": "NoMail", "company": "X"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"explain", "-eligibility", "-local", stack.ReceiverURL, "hubspot", "contact", noMail.ID}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"eligibility would NOT sync (decision not_eligible)", "has no email address", "fix       add an email address"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := st.GetSyncError(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: noMail.ID}); err == nil {
		t.Error("the preview stored a sync error")
	}
	// A record that would sync shows the write it would make.
	ok, err := stack.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ok@example.com", "lastname": "Ok", "company": "X"})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"explain", "-eligibility", "-local", stack.ReceiverURL, "hubspot", "contact", ok.ID}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "eligibility would sync") || !strings.Contains(out.String(), "would     create salesforce/Lead") {
		t.Errorf("eligible record:\n%s", out.String())
	}
	if n := len(stack.Salesforce.Records("Lead")); n != 0 {
		t.Errorf("the preview created %d leads", n)
	}
}
