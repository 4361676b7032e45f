package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localstack"
)

func TestExplainLinkedRecord(t *testing.T) {
	f := fillStore(t)
	var out bytes.Buffer
	// From either side of the pair, with flags after the record.
	for _, args := range [][]string{
		{"explain", "-data", f.path, "hubspot", "contact", f.synced.ID},
		{"explain", "salesforce", "lead", f.lead.ID, "-data", f.path},
	} {
		out.Reset()
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		text := out.String()
		for _, want := range []string{
			"status active  version 3",
			"  hubspot     " + f.synced.String(),
			"  salesforce  " + f.lead.String(),
			`jobtitle=Title`, `"CEO"`, `email=Email`, `"ada@example.com"`,
			"sync error  none",
			"ledger      2 entries, newest first",
			"trigger property_changed on " + f.lead.String() + "  delivery evt-",
			`changes   jobtitle=Title  "CTO" → "CEO"  (two_way)`,
			`conflict: hubspot won; losing value "CTO"`,
			"result    created",
			`email=Email          "" → "ada@example.com"  (two_way)`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, text)
			}
		}
		// Newest first: the conflict resolution before the create.
		if i, j := strings.Index(text, `"CTO" → "CEO"`), strings.Index(text, "result    created"); i < 0 || j < 0 || i > j {
			t.Errorf("%v: ledger not newest first:\n%s", args, text)
		}
	}
}

func TestExplainUnlinkedRecordShowsItsLedgerAndError(t *testing.T) {
	f := fillStore(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"explain", "-data", f.path, "hubspot", "contact", f.duplicate.ID}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"link        none",
		"hubspot/contact/103  Duplicates · code DUPLICATES_DETECTED",
		"fix         a Salesforce duplicate rule",
		"ledger      1 entry",
		"result    sync error: Duplicates DUPLICATES_DETECTED",
		"note      create salesforce Lead: duplicate value found",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// A record refused before it was linked: its refusal (kept under
// engine.LedgerKey) and the link's entries are one history.
func TestExplainJoinsLedgerFromBeforeTheLink(t *testing.T) {
	f := fillStore(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"explain", "-json", "-data", f.path, "hubspot", "contact", f.fixedLater.ID}, &out); err != nil {
		t.Fatal(err)
	}
	var x localstack.Explanation
	if err := json.Unmarshal(out.Bytes(), &x); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if x.Record != f.fixedLater || x.Link == nil || x.Link.HubSpot != f.fixedLater || x.Link.Status != crmsync.LinkActive {
		t.Fatalf("explanation = %+v", x)
	}
	if len(x.SyncErrors) != 0 {
		t.Errorf("sync errors of a fixed record: %+v", x.SyncErrors)
	}
	if len(x.Ledger) != 2 || x.More {
		t.Fatalf("ledger = %+v", x.Ledger)
	}
	created, refused := x.Ledger[0], x.Ledger[1]
	if created.LinkID != x.Link.ID || created.Result != "created" || len(created.Changes) == 0 {
		t.Errorf("newest entry = %+v, want the create under the link", created)
	}
	if refused.LinkID != engine.LedgerKey(f.fixedLater) || !strings.HasPrefix(refused.Result, "sync error") {
		t.Errorf("oldest entry = %+v, want the refusal under %s", refused, engine.LedgerKey(f.fixedLater))
	}

	// -limit 1 keeps the newest and says more exist.
	out.Reset()
	if err := run(context.Background(), []string{"explain", "-json", "-limit", "1", "-data", f.path, "hubspot", "contact", f.fixedLater.ID}, &out); err != nil {
		t.Fatal(err)
	}
	x = localstack.Explanation{}
	if err := json.Unmarshal(out.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Ledger) != 1 || !x.More || x.Ledger[0].Result != "created" {
		t.Errorf("-limit 1: ledger %+v more %v", x.Ledger, x.More)
	}
}

func TestExplainOfUnknownRecord(t *testing.T) {
	f := fillStore(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"explain", "-data", f.path, "salesforce", "Contact", "003000000000404"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"link        none", "sync error  none", "ledger      empty"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExplainUsage(t *testing.T) {
	f := fillStore(t)
	for _, args := range [][]string{
		{"explain", "-data", f.path},
		{"explain", "-data", f.path, "hubspot", "contact"},
		{"explain", "-data", f.path, "zoho", "contact", "1"},
		{"explain", "-data", f.path, "hubspot", "Lead", "1"},
		{"explain", "-data", f.path, "salesforce", "widget", "1"},
		{"explain", "-data", f.path, "-limit", "-2", "hubspot", "contact", "1"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, &out)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%v = %v, want a usage error", args, err)
		}
	}
}

// errors and explain with -table read a deployed stack's DynamoDB table
// (here DynamoDB Local, filled by the engine) the same as the bbolt file.
func TestErrorsAndExplainOnDynamoDB(t *testing.T) {
	endpoint := crmsynctest.Endpoint(t, crmsynctest.EnvDynamoDB, "DynamoDB Local", "crmsync errors/explain -table (cmd/crmsync)")
	ctx := context.Background()
	awsEnv(t, "CRMSYNC_DYNAMODB_ENDPOINT", endpoint, "local")
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	table := "crmsync-cli-test-" + strings.ToLower(rand.Text())
	if err := ddbstore.CreateTable(ctx, client, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("delete table %s: %v", table, err)
		}
	})
	f := fill(t, ddbstore.New(client, table))

	var out bytes.Buffer
	if err := run(ctx, []string{"errors", "-table", table, "-json"}, &out); err != nil {
		t.Fatalf("errors -table: %v", err)
	}
	var rep localstack.ErrorsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if rep.Total != 2 || len(rep.Errors) != 2 || rep.Errors[0].Record != f.noEmail || rep.Errors[1].Record != f.duplicate {
		t.Errorf("errors -table = %+v", rep)
	}

	out.Reset()
	if err := run(ctx, []string{"explain", "-table", table, "-json", "hubspot", "contact", f.fixedLater.ID}, &out); err != nil {
		t.Fatalf("explain -table: %v", err)
	}
	var x localstack.Explanation
	if err := json.Unmarshal(out.Bytes(), &x); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if x.Link == nil || len(x.Ledger) != 2 || x.Ledger[0].Result != "created" || x.Ledger[1].LinkID != engine.LedgerKey(f.fixedLater) {
		t.Errorf("explain -table = %+v", x)
	}
}

// A HubSpot change that "Prefer Salesforce unless blank" holds back is a
// refusal explain shows with its rule and both values — not "no change".
func TestExplainShowsARefusalWithItsRule(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Now().UTC() }
	hs, sf := crmsynctest.NewCRM(crmsync.HubSpot, now), crmsynctest.NewCRM(crmsync.Salesforce, now)
	eng := &engine.Engine{Store: st, HubSpot: hs, Salesforce: sf, Logger: slog.New(slog.DiscardHandler)}
	c := hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "7"},
		Properties: map[string]string{"email": "r@example.com", "lastname": "R", "phone": "111"}}).Ref
	for i, want := range []engine.Decision{engine.DecisionSynced, engine.DecisionRefused} {
		if i == 1 {
			hs.Edit(c, map[string]string{"phone": "222"})
		}
		out, err := eng.Resolve(ctx, crmsync.Trigger{Record: c, Kind: crmsync.KindPropertyChanged, OccurredAt: now(),
			DedupeKey: crmsync.DedupeKeyOf("refusal", strconv.Itoa(i))})
		if err != nil || out.Decision != want {
			t.Fatalf("resolve %d: %+v %v, want %s", i, out, err, want)
		}
	}
	st.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"explain", "-data", path, "hubspot", "contact", "7"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"result    refused",
		`phone=Phone  REFUSED "222" (kept "111")  (prefer_salesforce_unless_blank)`,
		"why: prefer Salesforce unless blank: the Salesforce field is not blank",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, out.String())
		}
	}
}
