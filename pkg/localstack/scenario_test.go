package localstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

// backend makes the Store and Queue a scenario runs on.
type backend struct {
	name string
	make func(t *testing.T) (crmsync.Store, crmsync.Queue)
}

func backends(t *testing.T) []backend {
	bs := []backend{{"bolt+localqueue", func(t *testing.T) (crmsync.Store, crmsync.Queue) {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st, localqueue.New(localqueue.Options{MaxReceives: 10})
	}}}
	bs = append(bs, backend{"dynamodb+sqs", func(t *testing.T) (crmsync.Store, crmsync.Queue) {
		ddbEP := crmsynctest.Endpoint(t, crmsynctest.EnvDynamoDB, "DynamoDB Local", "localstack scenarios/ddbstore")
		sqsEP := crmsynctest.Endpoint(t, crmsynctest.EnvSQS, "fauxqs", "localstack scenarios/sqsqueue")
		ctx := context.Background()
		creds := credentials.NewStaticCredentialsProvider("test", "test", "")
		ddb := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ddbEP), Credentials: creds})
		table := fmt.Sprintf("scenario-%d", time.Now().UnixNano())
		if err := ddbstore.CreateTable(ctx, ddb, table); err != nil {
			t.Fatal(err)
		}
		sq := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(sqsEP), Credentials: creds})
		url, _, err := sqsqueue.CreateFIFOQueue(ctx, sq, fmt.Sprintf("scenario-%d.fifo", time.Now().UnixNano()), 10)
		if err != nil {
			t.Fatal(err)
		}
		return ddbstore.New(ddb, table), sqsqueue.New(sq, url)
	}})
	return bs
}

// world is a running stack plus what the test observes of it.
type world struct {
	*Stack
	t     *testing.T
	queue crmsync.Queue
	store crmsync.Store

	mu       sync.Mutex
	outcomes []engine.Outcome
}

func start(t *testing.T, b backend) *world { return startWith(t, b, Config{}) }

func startWith(t *testing.T, b backend, cfg Config) *world {
	t.Helper()
	st, q := b.make(t)
	w := &world{t: t, queue: q, store: st}
	cfg.Store, cfg.Queue, cfg.Logger = st, q, testLogger()
	s, err := Start(context.Background(), Config{Store: st, Queue: q, Logger: cfg.Logger, NoWebhooks: cfg.NoWebhooks, SweepLag: cfg.SweepLag,
		SalesforcePicklists: cfg.SalesforcePicklists,
		OnOutcome: func(o engine.Outcome) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.outcomes = append(w.outcomes, o)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w.Stack = s
	return w
}

// settle waits until nothing is pending anywhere: no webhook or outbound
// message waiting, the queue empty, for several checks in a row.
func (w *world) settle() {
	w.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	quiet := 0
	for quiet < 5 {
		if time.Now().After(deadline) {
			st, _ := w.queue.Stats(context.Background())
			w.t.Fatalf("the stack did not settle: webhooks %d, outbound %d, queue %+v", w.HubSpot.Pending(), w.Salesforce.PendingOutbound(), st)
		}
		st, err := w.queue.Stats(context.Background())
		if err == nil && st.Visible == 0 && st.InFlight == 0 && w.HubSpot.Pending() == 0 && w.Salesforce.PendingOutbound() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// writes counts the writes the engine made since outcome index from.
func (w *world) writesSince(from int) (n int, outs []engine.Outcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.outcomes[from:] {
		n += len(o.Writes)
	}
	return n, append([]engine.Outcome(nil), w.outcomes[from:]...)
}

func (w *world) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.outcomes)
}

func (w *world) leadByEmail(email string) map[string]any {
	for _, r := range w.Salesforce.Records("Lead") {
		if strings.EqualFold(fmt.Sprint(r["Email"]), email) {
			return r
		}
	}
	return nil
}

func TestScenarios(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for name, f := range map[string]func(*testing.T, backend){
				"hubspot contact to lead and back, no echo writes": pingPong,
				"eligibility and vendor refusals are visible":      refusals,
				"duplicate and reordered deliveries":               noisyDeliveries,
				"owner by email, both ways":                        ownerByEmail,
				"salesforce contact to hubspot, clears":            contactToHubSpot,
				"the four field rules":                             fourRules,
				"inclusion list and inbound settings":              inclusionList,
				"many triggers for one new record":                 manyTriggersOneRecord,
				"webhooks off: one sweep converges":                sweepConverges,
				"salesforce merge retires the merged link":         salesforceMerge,
				"hubspot delete found by the sweep, mirrored":      hubspotDeleteSwept,
				"companies, accounts and associations":             accountsAndAssociations,
			} {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					f(t, b)
				})
			}
		})
	}
}

func pingPong(t *testing.T, b backend) {
	w := start(t, b)
	ctx := context.Background()
	m := w.mark()
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ada@example.com",
		"firstname": "Ada", "lastname": "Lovelace", "company": "Engines Ltd", "phone": "+44 1"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	lead := w.leadByEmail("ada@example.com")
	if lead == nil || lead["LastName"] != "Lovelace" || lead["Company"] != "Engines Ltd" || lead["Phone"] != "+44 1" {
		t.Fatalf("lead = %v", lead)
	}
	n, outs := w.writesSince(m)
	if n != 1 {
		t.Fatalf("creating one contact made %d writes, want 1 (the lead); outcomes %+v", n, outs)
	}

	// A Salesforce user changes the phone: it reaches HubSpot, and the
	// HubSpot webhook for crmsync's own write writes nothing back.
	m = w.mark()
	if err := w.Salesforce.UpdateAs("", lead["Id"].(string), map[string]any{"Phone": "+44 2"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	got, _ := w.HubSpot.Object(crmsync.HSContact, c.ID)
	if got.Properties["phone"] != "+44 2" {
		_, outs := w.writesSince(m)
		t.Fatalf("HubSpot phone = %q, want +44 2; outcomes %+v", got.Properties["phone"], outs)
	}
	if n, outs := w.writesSince(m); n != 1 {
		t.Fatalf("one Salesforce change made %d writes, want 1; outcomes %+v", n, outs)
	}

	// A HubSpot change to a field Salesforce has a value for is refused by
	// the default rule (prefer Salesforce unless blank): zero writes.
	m = w.mark()
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"jobtitle": "Analyst"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if lead := w.leadByEmail("ada@example.com"); lead["Title"] != "Analyst" {
		t.Errorf("blank Salesforce Title not filled from HubSpot: %v", lead["Title"])
	}
	if n, outs := w.writesSince(m); n != 1 {
		t.Fatalf("one HubSpot change made %d writes, want 1; outcomes %+v", n, outs)
	}
	if used, _ := w.store.APIUsage(ctx, crmsync.Salesforce, time.Now()); used == 0 {
		t.Error("Salesforce API calls were not counted")
	}
}

func refusals(t *testing.T, b backend) {
	w := start(t, b)
	ctx := context.Background()
	// No email: not eligible.
	noMail, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"lastname": "Nomail", "company": "X"})
	if err != nil {
		t.Fatal(err)
	}
	// A validation rule refuses the lead.
	w.Salesforce.AddValidationRule(salesforcesim.ValidationRule{Object: "Lead", Name: "No_Blocked_Companies",
		Message: "Blocked Co may not be a lead", Field: "Company",
		Fails: func(r map[string]any) bool { return r["Company"] == "Blocked Co" }})
	blocked, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "b@example.com", "lastname": "B", "company": "Blocked Co"})
	if err != nil {
		t.Fatal(err)
	}
	// A duplicate rule refuses a lead whose email a lead the integration
	// user cannot see already has (sharing applies to it here).
	w.Salesforce.SetIntegrationUserModifyAll(false)
	w.Salesforce.AddDuplicateRule(salesforcesim.DuplicateRule{Object: "Lead", Block: true})
	rep := w.Salesforce.AddUser("rep@example.com", "Rep")
	if _, err := w.Salesforce.CreateAs(rep, "Lead", map[string]any{"LastName": "Hidden", "Company": "H", "Email": "dup@example.com"}); err != nil {
		t.Fatal(err)
	}
	dup, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "dup@example.com", "lastname": "Dup", "company": "D"})
	if err != nil {
		t.Fatal(err)
	}
	// No last name: Lead.LastName is required in Salesforce.
	noCompany, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "nc@example.com", "company": "NoName Co"})
	if err != nil {
		t.Fatal(err)
	}
	// No company: the lead gets Salesforce's web-to-lead placeholder.
	if _, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "noco@example.com", "lastname": "NoCo"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	se, err := w.store.GetSyncError(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: noMail.ID})
	if err != nil || se.Reason != crmsync.ReasonNoEmail {
		t.Errorf("no-email contact: %+v %v", se, err)
	}
	se, err = w.store.GetSyncError(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: noCompany.ID})
	if err != nil || se.Code != "REQUIRED_FIELD_MISSING" || se.Category != crmsync.CategoryPropertyValues || se.Hint == "" ||
		!strings.Contains(se.Message, "LastName") {
		t.Errorf("no-last-name contact: %+v %v", se, err)
	}
	if lead := w.leadByEmail("noco@example.com"); lead == nil || lead["Company"] != crmsync.DefaultLeadCompany {
		t.Errorf("contact without a company: lead %v, want Company %q", lead, crmsync.DefaultLeadCompany)
	}
	se, err = w.store.GetSyncError(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: blocked.ID})
	if err != nil || se.Code != "FIELD_CUSTOM_VALIDATION_EXCEPTION" || se.Category != crmsync.CategoryCustomCode || !strings.Contains(se.Message, "Blocked Co may not be a lead") {
		t.Errorf("validation-rule contact: %+v %v", se, err)
	}
	se, err = w.store.GetSyncError(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: dup.ID})
	if err != nil || se.Code != "DUPLICATES_DETECTED" || se.Category != crmsync.CategoryDuplicates {
		t.Errorf("duplicate-rule contact: %+v %v", se, err)
	}
	counts, err := w.store.CountSyncErrors(ctx)
	if err != nil || counts[crmsync.CategoryPropertyValues] != 2 || counts[crmsync.CategoryCustomCode] != 1 || counts[crmsync.CategoryDuplicates] != 1 {
		t.Errorf("counts %v %v", counts, err)
	}
	// Fixing the record clears its error.
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, noCompany.ID, map[string]string{"lastname": "Fixed"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if w.leadByEmail("nc@example.com") == nil {
		t.Fatal("fixed contact did not sync")
	}
	if _, err := w.store.GetSyncError(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: noCompany.ID}); err == nil {
		t.Error("sync error not cleared after the fix")
	}
}

func noisyDeliveries(t *testing.T, b backend) {
	w := start(t, b)
	w.Salesforce.SetOutboundOptions(salesforcesim.OutboundOptions{Duplicate: true, Reorder: true, Backoff: func(int) time.Duration { return time.Second }})
	var ids []string
	for i := range 20 {
		c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": fmt.Sprintf("n%d@example.com", i),
			"lastname": fmt.Sprintf("N%d", i), "company": "Noisy"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	for _, id := range ids {
		if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, id, map[string]string{"firstname": "Final"}); err != nil {
			t.Fatal(err)
		}
	}
	w.settle()
	leads := w.Salesforce.Records("Lead")
	if len(leads) != 20 {
		t.Fatalf("%d leads, want 20 (no duplicates)", len(leads))
	}
	for _, l := range leads {
		if l["FirstName"] != "Final" {
			t.Errorf("lead %v FirstName = %v, want the final value", l["Email"], l["FirstName"])
		}
	}
}

func ownerByEmail(t *testing.T, b backend) {
	w := start(t, b)
	w.HubSpot.AddOwner(hubspot.Owner{ID: "501", Email: "ann@corp.example", FirstName: "Ann"})
	w.HubSpot.AddOwner(hubspot.Owner{ID: "502", Email: "bob@corp.example", FirstName: "Bob"})
	w.Salesforce.AddUser("ann@corp.example", "Ann")
	bob := w.Salesforce.AddUser("bob@corp.example", "Bob")
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "own@example.com",
		"lastname": "Owned", "company": "O", "hubspot_owner_id": "501"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	lead := w.leadByEmail("own@example.com")
	if lead == nil {
		t.Fatal("no lead")
	}
	owner, _ := w.Salesforce.Get(lead["OwnerId"].(string))
	if owner["Email"] != "ann@corp.example" {
		t.Fatalf("lead owner = %v, want ann", owner["Email"])
	}
	if err := w.Salesforce.UpdateAs("", lead["Id"].(string), map[string]any{"OwnerId": bob}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got, _ := w.HubSpot.Object(crmsync.HSContact, c.ID); got.Properties["hubspot_owner_id"] != "502" {
		t.Errorf("HubSpot owner = %q, want 502 (bob)", got.Properties["hubspot_owner_id"])
	}
}

func contactToHubSpot(t *testing.T, b backend) {
	w := start(t, b)
	id, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Turing", "FirstName": "Alan",
		"Email": "alan@example.com", "MailingCity": "Wilmslow", "Phone": "+44 3"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	var hs *hubspotsim.Object
	for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
		if o.Properties["email"] == "alan@example.com" {
			hs = &o
		}
	}
	if hs == nil || hs.Properties["city"] != "Wilmslow" || hs.Properties["firstname"] != "Alan" {
		t.Fatalf("HubSpot contact = %+v", hs)
	}
	// Clearing a value in Salesforce clears it in HubSpot (prefer
	// Salesforce: Salesforce changes always go to HubSpot)... except that a
	// blank Salesforce field lets the HubSpot value back in: the rule's
	// documented behaviour, so the phone comes back to Salesforce.
	if err := w.Salesforce.UpdateAs("", id, map[string]any{"MailingCity": "Manchester", "Phone": nil}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	got, _ := w.HubSpot.Object(crmsync.HSContact, hs.ID)
	if got.Properties["city"] != "Manchester" {
		t.Errorf("HubSpot city = %q, want Manchester", got.Properties["city"])
	}
	sf, _ := w.Salesforce.Get(id)
	if sf["Phone"] != "+44 3" || got.Properties["phone"] != "+44 3" {
		t.Errorf("after clearing Phone in Salesforce: SF %v, HubSpot %q (want the HubSpot value restored)", sf["Phone"], got.Properties["phone"])
	}
}

// testLogger discards logs unless CRMSYNC_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("CRMSYNC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func putSettings(t *testing.T, w *world, edit func(*crmsync.Settings)) {
	t.Helper()
	s, err := w.Engine.Settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	edit(&s)
	if _, err := w.store.PutSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func fourRules(t *testing.T, b backend) {
	w := start(t, b)
	rules := map[string]crmsync.FieldRule{"firstname": crmsync.RulePreferSalesforce, "jobtitle": crmsync.RuleAlwaysSalesforce,
		"phone": crmsync.RuleTwoWay, "mobilephone": crmsync.RuleDontSync}
	putSettings(t, w, func(s *crmsync.Settings) {
		for i, m := range s.Mappings {
			if r, ok := rules[m.HubSpotProperty]; ok {
				s.Mappings[i].Rule = r
			}
		}
	})
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "rules@example.com", "lastname": "R",
		"company": "C", "firstname": "Hs", "jobtitle": "HsTitle", "phone": "1", "mobilephone": "m1"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	lead := w.leadByEmail("rules@example.com")
	// Created: prefer-SF and two-way values go (SF blank); always-SF and
	// don't-sync do not.
	if lead["FirstName"] != "Hs" || lead["Phone"] != "1" || lead["Title"] != nil || lead["MobilePhone"] != nil {
		t.Fatalf("created lead %v", lead)
	}
	id := lead["Id"].(string)
	// Salesforce changes all four.
	if err := w.Salesforce.UpdateAs("", id, map[string]any{"FirstName": "Sf", "Title": "SfTitle", "Phone": "2", "MobilePhone": "m2"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	got, _ := w.HubSpot.Object(crmsync.HSContact, c.ID)
	want := map[string]string{"firstname": "Sf", "jobtitle": "SfTitle", "phone": "2", "mobilephone": "m1"}
	for k, v := range want {
		if got.Properties[k] != v {
			t.Errorf("after Salesforce edits, HubSpot %s = %q, want %q", k, got.Properties[k], v)
		}
	}
	// HubSpot changes all four: only two-way goes (the SF fields are not blank).
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"firstname": "Hs2", "jobtitle": "HsTitle2", "phone": "3", "mobilephone": "m3"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	lead, _ = w.Salesforce.Get(id)
	wantSF := map[string]any{"FirstName": "Sf", "Title": "SfTitle", "Phone": "3", "MobilePhone": "m2"}
	for k, v := range wantSF {
		if lead[k] != v {
			t.Errorf("after HubSpot edits, Salesforce %s = %v, want %v", k, lead[k], v)
		}
	}
	// Two-way clear from HubSpot clears Salesforce.
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"phone": ""}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if lead, _ = w.Salesforce.Get(id); lead["Phone"] != nil {
		t.Errorf("two-way clear: Salesforce Phone = %v", lead["Phone"])
	}
}

func inclusionList(t *testing.T, b backend) {
	w := start(t, b)
	ctx := context.Background()
	putSettings(t, w, func(s *crmsync.Settings) {
		s.InclusionListID = "77"
		s.LeadsToHubSpot = crmsync.InboundNothing
	})
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "in@example.com", "lastname": "In", "company": "C"})
	if err != nil {
		t.Fatal(err)
	}
	// A Salesforce lead with "leads do nothing in HubSpot".
	if _, err := w.Salesforce.CreateAs("", "Lead", map[string]any{"LastName": "Quiet", "Company": "Q", "Email": "quiet@example.com"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID}
	if se, err := w.store.GetSyncError(ctx, ref); err != nil || se.Reason != crmsync.ReasonNotInInclusionList {
		t.Fatalf("contact outside the list: %+v %v", se, err)
	}
	if w.leadByEmail("in@example.com") != nil {
		t.Fatal("a contact outside the inclusion list synced")
	}
	for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
		if o.Properties["email"] == "quiet@example.com" {
			t.Fatal("a Salesforce lead reached HubSpot although leads do nothing")
		}
	}
	// Added to the list — nothing else changes, HubSpot sends no webhook
	// for it — it syncs within seconds (the stack polls the list's
	// memberships).
	w.HubSpot.AddToList("77", crmsync.HSContact, c.ID)
	deadline := time.Now().Add(15 * time.Second)
	for w.leadByEmail("in@example.com") == nil {
		if time.Now().After(deadline) {
			t.Fatal("contact added to the inclusion list did not sync within 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.settle()
	if _, err := w.store.GetSyncError(ctx, ref); err == nil {
		t.Error("the inclusion-list error was not cleared")
	}
	// Removed from the list: HubSpot changes stop reaching Salesforce.
	w.HubSpot.RemoveFromList("77", crmsync.HSContact, c.ID)
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"jobtitle": "Left"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if lead := w.leadByEmail("in@example.com"); lead["Title"] == "Left" {
		t.Error("a contact removed from the inclusion list still synced to Salesforce")
	}
}

func manyTriggersOneRecord(t *testing.T, b backend) {
	w := start(t, b)
	w.HubSpot.SetFaults(hubspotsim.Faults{DuplicateWebhook: 1, ReorderWebhook: 1})
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "many@example.com", "lastname": "M", "company": "C"})
	if err != nil {
		t.Fatal(err)
	}
	ref := crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID}
	var ts []crmsync.Trigger
	for i := range 10 {
		ts = append(ts, crmsync.Trigger{Record: ref, Kind: crmsync.KindManualResync, OccurredAt: time.Now(),
			DedupeKey: crmsync.DedupeKeyOf("test", c.ID, fmt.Sprint(i))})
	}
	if err := w.queue.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	w.settle()
	n := 0
	for _, l := range w.Salesforce.Records("Lead") {
		if l["Email"] == "many@example.com" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d leads for one contact, want 1", n)
	}
}

func sweepConverges(t *testing.T, b backend) {
	w := startWith(t, b, Config{NoWebhooks: true, SweepLag: -1})
	ctx := context.Background()
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "quiet-hs@example.com", "lastname": "Hs", "company": "C"})
	if err != nil {
		t.Fatal(err)
	}
	sfID, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Sf", "Email": "quiet-sf@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// The sweep reads whole seconds that have ended (Salesforce keeps
	// SystemModstamp to the second): let the current one end.
	nextSecond := func() { time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond))) }
	nextSecond()
	rep, err := w.Sweeper.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	if w.leadByEmail("quiet-hs@example.com") == nil {
		t.Errorf("HubSpot contact not in Salesforce after one sweep (report %+v)", rep)
	}
	found := false
	for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
		found = found || o.Properties["email"] == "quiet-sf@example.com"
	}
	if !found {
		t.Errorf("Salesforce contact not in HubSpot after one sweep (report %+v)", rep)
	}
	// Changes on both sides of the now-linked pairs, still no webhooks.
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSContact, c.ID, map[string]string{"phone": "+1 111"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Salesforce.UpdateAs("", sfID, map[string]any{"Title": "Chief"}); err != nil {
		t.Fatal(err)
	}
	nextSecond()
	if _, err := w.Sweeper.Run(ctx); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if l := w.leadByEmail("quiet-hs@example.com"); l["Phone"] != "+1 111" {
		t.Errorf("HubSpot change not swept to Salesforce: %v", l["Phone"])
	}
	for _, o := range w.HubSpot.Objects(crmsync.HSContact) {
		if o.Properties["email"] == "quiet-sf@example.com" && o.Properties["jobtitle"] != "Chief" {
			t.Errorf("Salesforce change not swept to HubSpot: %q", o.Properties["jobtitle"])
		}
	}
}

func salesforceMerge(t *testing.T, b backend) {
	w := startWith(t, b, Config{SweepLag: -1})
	ctx := context.Background()
	master, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Master", "Email": "m@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	loser, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Loser", "Email": "l@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	loserRef := crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: loser}
	ll, err := w.store.GetLink(ctx, loserRef)
	if err != nil {
		t.Fatalf("loser not linked: %v", err)
	}
	if _, err := w.Sweeper.Run(ctx); err != nil { // sets the cursors
		t.Fatal(err)
	}
	if err := w.Salesforce.Merge("", master, loser); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	rep, err := w.Sweeper.Run(ctx) // getDeleted finds the merged-away loser
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	got, err := w.store.GetLinkByID(ctx, ll.ID)
	if err != nil || got.Status != crmsync.LinkDeletedSalesforce {
		t.Fatalf("merged-away link = %+v, %v (sweep %+v)", got, err, rep)
	}
	entries, _, _ := w.store.ListLedger(ctx, ll.ID, crmsync.PageRequest{Limit: 1})
	if len(entries) != 1 || !strings.Contains(entries[0].Note, "merged into "+"salesforce/Contact/"+master) {
		t.Errorf("ledger: %+v", entries)
	}
	if n := len(w.HubSpot.Objects(crmsync.HSContact)); n != 2 {
		t.Errorf("%d HubSpot contacts, want 2 (nothing created by the merge)", n)
	}
}

// accountsAndAssociations: with company and deal sync turned on, a
// HubSpot company links to the Account of its synced contacts (no second
// Account), a contact's primary company becomes Contact.AccountId and a
// changed AccountId becomes the primary company, and an Opportunity's
// Account becomes its deal's company — without echo writes.
func accountsAndAssociations(t *testing.T, b backend) {
	w := start(t, b)
	putSettings(t, w, func(s *crmsync.Settings) {
		s.NewContactsAs = crmsync.CreateAsContact
		for i, m := range s.Mappings {
			if m.HubSpotProperty == "dealstage" { // the sims' stages differ; not this scenario's subject
				s.Mappings[i].Rule = crmsync.RuleDontSync
			}
		}
	})
	hsByProp := func(o crmsync.ObjectType, prop, value string) hubspotsim.Object {
		t.Helper()
		for _, r := range w.HubSpot.Objects(o) {
			if r.Properties[prop] == value {
				return r
			}
		}
		t.Fatalf("no HubSpot %s with %s %q", o, prop, value)
		return hubspotsim.Object{}
	}
	sfByEmail := func(email string) map[string]any {
		t.Helper()
		for _, r := range w.Salesforce.Records("Contact") {
			if r["Email"] == email {
				return r
			}
		}
		t.Fatalf("no Salesforce contact %s", email)
		return nil
	}

	// Before companies sync: a Salesforce Account with a Contact (which
	// syncs), and a HubSpot company of that contact (which does not).
	initech, err := w.Salesforce.CreateAs("", "Account", map[string]any{"Name": "Initech"})
	if err != nil {
		t.Fatal(err)
	}
	peterSF, err := w.Salesforce.CreateAs("", "Contact", map[string]any{"LastName": "Gibbons", "Email": "peter@initech.example", "AccountId": initech})
	if err != nil {
		t.Fatal(err)
	}
	company, err := w.HubSpot.CreateAsUser(crmsync.HSCompany, map[string]string{"name": "Initech Inc"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	peter := hsByProp(crmsync.HSContact, "email", "peter@initech.example")
	if err := w.HubSpot.Associate(crmsync.HSCompany, company.ID, crmsync.HSContact, peter.ID); err != nil {
		t.Fatal(err)
	}
	w.settle()

	// Companies and deals on; the company changes: it links to Initech,
	// the Account of its synced contact, instead of creating one.
	putSettings(t, w, func(s *crmsync.Settings) { s.Objects.Companies, s.Objects.Deals = true, true })
	if _, err := w.HubSpot.UpdateAsUser(crmsync.HSCompany, company.ID, map[string]string{"description": "Penetrode"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	accounts := w.Salesforce.Records("Account")
	if len(accounts) != 1 || accounts[0]["Id"] != initech || accounts[0]["Description"] != "Penetrode" {
		t.Fatalf("accounts = %v, want Initech alone, described from HubSpot", accounts)
	}

	// HubSpot → Salesforce: a new contact whose company is Initech Inc.
	milton, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "milton@initech.example", "lastname": "Waddams"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.HubSpot.Associate(crmsync.HSContact, milton.ID, crmsync.HSCompany, company.ID); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := sfByEmail("milton@initech.example")["AccountId"]; got != initech {
		t.Fatalf("Milton's AccountId = %v, want %s", got, initech)
	}

	// Salesforce → HubSpot: a new Account, and Peter moves to it. One
	// write (the association); its webhooks write nothing back.
	chotchkies, err := w.Salesforce.CreateAs("", "Account", map[string]any{"Name": "Chotchkie's"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	chCompany := hsByProp(crmsync.HSCompany, "name", "Chotchkie's")
	m := w.mark()
	if err := w.Salesforce.UpdateAs("", peterSF, map[string]any{"AccountId": chotchkies}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := w.HubSpot.Associations(crmsync.HSContact, peter.ID, crmsync.HSCompany); len(got) != 1 || got[0] != chCompany.ID {
		t.Errorf("Peter's companies = %v, want [%s] (Initech Inc replaced)", got, chCompany.ID)
	}
	if n, outs := w.writesSince(m); n != 1 {
		t.Errorf("moving Peter made %d writes, want 1; outcomes %+v", n, outs)
	}
	// Salesforce clears Peter's account: his company association goes.
	m = w.mark()
	if err := w.Salesforce.UpdateAs("", peterSF, map[string]any{"AccountId": nil}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := w.HubSpot.Associations(crmsync.HSContact, peter.ID, crmsync.HSCompany); len(got) != 0 {
		t.Errorf("Peter's companies after clearing AccountId = %v, want none", got)
	}
	if n, outs := w.writesSince(m); n != 1 {
		t.Errorf("clearing Peter's account made %d writes, want 1; outcomes %+v", n, outs)
	}

	// An Opportunity at Chotchkie's becomes a deal of its company.
	if _, err := w.Salesforce.CreateAs("", "Opportunity", map[string]any{"Name": "Flair", "StageName": "Prospecting",
		"CloseDate": "2026-12-31", "AccountId": chotchkies}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	deal := hsByProp(crmsync.HSDeal, "dealname", "Flair")
	if got := w.HubSpot.Associations(crmsync.HSDeal, deal.ID, crmsync.HSCompany); len(got) != 1 || got[0] != chCompany.ID {
		t.Errorf("the deal's companies = %v, want [%s]", got, chCompany.ID)
	}
	if n := len(w.Salesforce.Records("Account")); n != 2 {
		t.Errorf("%d accounts, want 2", n)
	}
}

func hubspotDeleteSwept(t *testing.T, b backend) {
	w := startWith(t, b, Config{NoWebhooks: true, SweepLag: -1})
	ctx := context.Background()
	putSettings(t, w, func(s *crmsync.Settings) { s.Deletes = crmsync.DeleteMirror })
	c, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "gone@example.com", "lastname": "Gone", "company": "G"})
	if err != nil {
		t.Fatal(err)
	}
	nextSecond := func() { time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond))) }
	nextSecond()
	if _, err := w.Sweeper.Run(ctx); err != nil {
		t.Fatal(err)
	}
	w.settle()
	lead := w.leadByEmail("gone@example.com")
	if lead == nil {
		t.Fatal("contact not synced")
	}
	if err := w.HubSpot.DeleteAsUser(crmsync.HSContact, c.ID); err != nil {
		t.Fatal(err)
	}
	nextSecond()
	rep, err := w.Sweeper.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	link, err := w.store.GetLink(ctx, crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: c.ID})
	if err != nil || link.Status != crmsync.LinkDeletedHubSpot {
		t.Fatalf("link after the delete = %+v, %v (sweep %+v)", link, err, rep)
	}
	if got, _ := w.Salesforce.Get(lead["Id"].(string)); got["IsDeleted"] != true {
		t.Errorf("lead not deleted with the mirror policy: %v", got["IsDeleted"])
	}
}
