package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// filled is a bbolt store the real engine filled over fake CRMs.
type filled struct {
	// path is the bbolt file (fillStore only).
	path string
	// synced is a HubSpot contact linked to lead; its job title had a
	// Two-way conflict.
	synced, lead crmsync.RecordRef
	// noEmail was refused (no email); duplicate failed in Salesforce with
	// DUPLICATES_DETECTED.
	noEmail, duplicate crmsync.RecordRef
	// fixedLater was refused (no email), then got one and synced.
	fixedLater crmsync.RecordRef
	// hs, sf and now are the fake CRMs and clock the engine ran with;
	// newEngine builds an engine over them and a store.
	hs, sf *crmsynctest.CRM
	now    func() time.Time
}

func (f filled) newEngine(st crmsync.Store) *engine.Engine {
	return &engine.Engine{Store: st, HubSpot: f.hs, Salesforce: f.sf, Now: f.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

type dupErr struct{}

func (dupErr) Error() string              { return "duplicate value found: Email on Lead" }
func (dupErr) Code() string               { return "DUPLICATES_DETECTED" }
func (dupErr) Category() crmsync.Category { return crmsync.CategoryDuplicates }

// Hint: a vendor error carries its own hint (crmsync.Hinter), as
// *salesforce.APIError does.
func (dupErr) Hint() string { return salesforce.HintOf("DUPLICATES_DETECTED") }

// fillStore fills a new bbolt file with fill and closes it, so a command
// can open it.
func fillStore(t *testing.T) filled {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := fill(t, st)
	f.path = path
	return f
}

// fill resolves triggers with the engine over crmsynctest CRMs into st:
// one synced pair with a Two-way conflict, one refusal, one refusal fixed
// later, one vendor failure.
func fill(t *testing.T, st crmsync.Store) filled {
	t.Helper()
	ctx := context.Background()
	var tick atomic.Int64
	now := func() time.Time {
		return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(tick.Add(1)) * time.Millisecond)
	}
	f := filled{now: now}
	hs, sf := crmsynctest.NewCRM(crmsync.HubSpot, now), crmsynctest.NewCRM(crmsync.Salesforce, now)
	f.hs, f.sf = hs, sf
	s := crmsync.DefaultSettings()
	s.Mappings = mapping.DefaultMappings(crmsync.RuleTwoWay)
	if _, err := st.PutSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	eng := f.newEngine(st)
	n := 0
	resolve := func(ref crmsync.RecordRef, want engine.Decision) {
		t.Helper()
		n++
		tr := crmsync.Trigger{Record: ref, Kind: crmsync.KindPropertyChanged, OccurredAt: now(),
			DeliveryID: fmt.Sprintf("evt-%d", n), DedupeKey: crmsync.DedupeKeyOf(ref.Key(), fmt.Sprint(n))}
		out, err := eng.Resolve(ctx, tr)
		if err != nil || out.Decision != want {
			t.Fatalf("resolve %s = %+v, %v; want %s", ref, out, err, want)
		}
	}
	contact := func(id string, props map[string]string) crmsync.RecordRef {
		return hs.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: id}, Properties: props}).Ref
	}

	f.synced = contact("101", map[string]string{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace", "jobtitle": "Analyst"})
	resolve(f.synced, engine.DecisionSynced)
	leads := sf.Records(crmsync.SFLead)
	if len(leads) != 1 {
		t.Fatalf("%d leads after the first sync", len(leads))
	}
	f.lead = leads[0].Ref
	sf.Edit(f.lead, map[string]string{"Title": "CTO"})
	hs.Edit(f.synced, map[string]string{"jobtitle": "CEO"}) // later: wins
	resolve(f.lead, engine.DecisionSynced)

	f.fixedLater = contact("104", map[string]string{"lastname": "Later"})
	resolve(f.fixedLater, engine.DecisionNotEligible)
	hs.Edit(f.fixedLater, map[string]string{"email": "later@example.com"})
	resolve(f.fixedLater, engine.DecisionSynced)

	f.noEmail = contact("102", map[string]string{"lastname": "Nomail"})
	resolve(f.noEmail, engine.DecisionNotEligible)
	resolve(f.noEmail, engine.DecisionNotEligible)

	sf.Fail = func(op string, ref crmsync.RecordRef) error {
		if op == "create" {
			return dupErr{}
		}
		return nil
	}
	f.duplicate = contact("103", map[string]string{"email": "grace@example.com", "lastname": "Hopper"})
	resolve(f.duplicate, engine.DecisionFailed)
	return f
}

func TestErrorsListsWhatToFix(t *testing.T) {
	f := fillStore(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"errors", "-data", f.path}, &out); err != nil {
		t.Fatalf("errors: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"2 sync errors in bbolt " + f.path,
		"  Duplicates       1\n",
		"  Property values  1\n",
		"hubspot/contact/102  Property values · reason no_email",
		"fix         add an email address to the record",
		"attempts    1\n", // resolved twice, but the second came before its retry was due
		"hubspot/contact/103  Duplicates · code DUPLICATES_DETECTED",
		"message     create",
		"duplicate value found: Email on Lead",
		"fix         a Salesforce duplicate rule blocked the write",
		"first seen  2026-11-01 09:00:00.",
		"next retry  2026-11-01 09:",
		"crmsync resync -errors",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hubspot/contact/101") {
		t.Errorf("the synced contact is listed as an error:\n%s", text)
	}

	// One category, as JSON.
	out.Reset()
	if err := run(context.Background(), []string{"errors", "-data", f.path, "-category", "duplicates", "-json"}, &out); err != nil {
		t.Fatalf("errors -category -json: %v", err)
	}
	var rep localstack.ErrorsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	if rep.Total != 2 || rep.Counts[crmsync.CategoryDuplicates] != 1 || len(rep.Errors) != 1 ||
		rep.Errors[0].Record != f.duplicate || rep.Errors[0].Code != "DUPLICATES_DETECTED" || rep.More {
		t.Errorf("JSON report = %+v", rep)
	}

	// -limit cuts the list and says so.
	out.Reset()
	if err := run(context.Background(), []string{"errors", "-data", f.path, "-limit", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "message ") != 1 || !strings.Contains(out.String(), "more not shown") {
		t.Errorf("-limit 1:\n%s", out.String())
	}
}

func TestErrorsOnEmptyStore(t *testing.T) {
	var out bytes.Buffer
	data := filepath.Join(t.TempDir(), "empty.db")
	if err := run(context.Background(), []string{"errors", "-data", data}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no sync errors") {
		t.Errorf("output: %s", out.String())
	}
}

func TestErrorsUsage(t *testing.T) {
	data := filepath.Join(t.TempDir(), "s.db")
	for _, args := range [][]string{
		{"errors", "-data", data, "-category", "Typos"},
		{"errors", "-data", data, "extra"},
		{"errors", "-data", data, "-limit", "-1"},
		{"errors", "-nope"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, &out)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%v = %v, want a usage error", args, err)
		}
	}
}

func TestStoreHeldByAnotherProcessSaysSo(t *testing.T) {
	f := fillStore(t)
	openState(t, f.path) // as a running crmsync local would
	var out bytes.Buffer
	err := run(context.Background(), []string{"errors", "-data", f.path}, &out)
	if err == nil || !strings.Contains(err.Error(), "crmsync local") {
		t.Fatalf("errors on a held file = %v, want one naming crmsync local", err)
	}
}
