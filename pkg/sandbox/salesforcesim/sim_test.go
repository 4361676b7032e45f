package salesforcesim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// prefix mounts the org under a path, as a reverse proxy would: a
// client that drops the base URL's path gets 404s.
const prefix = "/sf"

type sim struct {
	org   *Org
	clock *clock
	srv   *httptest.Server
}

func newSim(t testing.TB, cfg Config) *sim {
	t.Helper()
	c := &clock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	org := New(cfg)
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, org))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	org.SetInstanceURL(srv.URL + prefix)
	return &sim{org: org, clock: c, srv: srv}
}

// client returns a client acting as user ("" = the integration user).
func (s *sim) client(t testing.TB, user string, opts ...salesforce.Option) *salesforce.Client {
	t.Helper()
	tok := s.org.Session(user)
	c, err := salesforce.NewClient(append([]salesforce.Option{salesforce.WithBaseURL(s.srv.URL + prefix),
		salesforce.WithHTTPClient(s.srv.Client()), salesforce.WithClientID("crmsync-test"),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIDs(t *testing.T) {
	s := newSim(t, Config{})
	want := map[string]string{"Lead": "00Q", "Contact": "003", "Account": "001", "Opportunity": "006",
		"CampaignMember": "00v", "Task": "00T", "Campaign": "701", "OpportunityContactRole": "00K"}
	for obj, p := range want {
		s.org.mu.Lock()
		id := s.org.newID(obj)
		s.org.mu.Unlock()
		if len(id) != 18 || !strings.HasPrefix(id, p) || salesforce.ID18(id[:15]) != id {
			t.Errorf("%s id %q: want 18 characters, prefix %s, valid checksum", obj, id, p)
		}
	}
	if id := s.org.OrgID(); !strings.HasPrefix(id, "00D") || len(id) != 18 {
		t.Errorf("org id %q", id)
	}
}

func TestClientOperations(t *testing.T) {
	s := newSim(t, Config{QueryBatchSize: 2})
	var infos []salesforce.LimitInfo
	c := s.client(t, "", salesforce.WithLimitInfoFunc(func(_ context.Context, li salesforce.LimitInfo) { infos = append(infos, li) }))
	ctx := context.Background()

	// Single records.
	id, err := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": "Silva", "Company": "Silva & Filhos",
		"Email": "ana@example.com", "Score__c": 70, "CountryCode": "US", "StateCode": "CA"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "00Q") || len(id) != 18 {
		t.Errorf("lead id %q", id)
	}
	lead, err := c.GetRecord(ctx, "Lead", id)
	if err != nil {
		t.Fatal(err)
	}
	if lead.Type != "Lead" || lead.Text("Status") != "Open - Not Contacted" || lead.Text("Score_Band__c") != "Hot" ||
		lead.Text("OwnerId") != s.org.IntegrationUserID || lead.Text("SystemModstamp") != "2026-11-23T12:00:00.000+0000" {
		t.Errorf("lead = %+v", lead)
	}
	s.clock.Add(time.Minute)
	if err := c.UpdateRecord(ctx, "Lead", id, map[string]any{"Score__c": 10, "Phone": nil}); err != nil {
		t.Fatal(err)
	}
	lead, _ = c.GetRecord(ctx, "Lead", id, "Score_Band__c", "LastModifiedDate")
	if lead.Text("Score_Band__c") != "Cold" || lead.Text("LastModifiedDate") != "2026-11-23T12:01:00.000+0000" || len(lead.Fields) != 2 {
		t.Errorf("after update = %+v", lead.Fields)
	}
	up, err := c.UpsertRecord(ctx, "Contact", "HubSpot_Id__c", "101", map[string]any{"LastName": "Wei"})
	if err != nil || !up.Created || !strings.HasPrefix(up.ID, "003") {
		t.Fatalf("upsert create = %+v, %v", up, err)
	}
	up2, err := c.UpsertRecord(ctx, "Contact", "HubSpot_Id__c", "101", map[string]any{"Title": "CTO"})
	if err != nil || up2.Created || up2.ID != up.ID {
		t.Errorf("upsert update = %+v, %v", up2, err)
	}

	// Collections: partial failure maps to the right index.
	res, err := c.CreateRecords(ctx, []salesforce.Record{
		{Type: "Contact", Fields: map[string]any{"LastName": "A", "Email": "a@example.com"}},
		{Type: "Contact", Fields: map[string]any{"Email": "b@example.com"}},
		{Type: "Account", Fields: map[string]any{"Name": "Globex"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var re *salesforce.RecordError
	if !res[0].OK() || res[1].OK() || !res[2].OK() || !strings.HasPrefix(res[2].ID, "001") ||
		!errors.As(res[1].Err(), &re) || re.StatusCode != salesforce.CodeRequiredFieldMissing {
		t.Fatalf("create records = %+v", res)
	}
	accountID := res[2].ID
	res, err = c.UpdateRecords(ctx, []salesforce.Record{
		{Type: "Contact", ID: res[0].ID, Fields: map[string]any{"AccountId": accountID}},
		{Type: "Contact", ID: up.ID, Fields: map[string]any{"Email": "not an email"}},
	})
	if err != nil || !res[0].OK() || !errors.As(res[1].Err(), &re) || re.StatusCode != salesforce.CodeInvalidEmailAddress || res[1].ID != up.ID {
		t.Fatalf("update records = %+v, %v", res, err)
	}
	res, err = c.UpsertRecords(ctx, "Contact", "HubSpot_Id__c", []salesforce.Record{
		{Type: "Contact", Fields: map[string]any{"HubSpot_Id__c": "101", "Phone": "+1 555 0100"}},
		{Type: "Contact", Fields: map[string]any{"HubSpot_Id__c": "102", "LastName": "New"}},
	})
	if err != nil || !res[0].OK() || res[0].Created || res[0].ID != up.ID || !res[1].OK() || !res[1].Created {
		t.Fatalf("upsert records = %+v, %v", res, err)
	}
	newContact := res[1].ID

	// Composite with a reference.
	sub, err := c.Composite(ctx, []salesforce.Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "NewAccount", Body: map[string]any{"Name": "Initech"}},
		{Method: "POST", URL: "sobjects/Contact", ReferenceID: "NewContact", Body: map[string]any{"LastName": "Lumbergh", "AccountId": "@{NewAccount.id}"}},
		{Method: "GET", URL: "sobjects/Contact/@{NewContact.id}?fields=AccountId", ReferenceID: "ReadBack"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sub {
		if r.Err() != nil {
			t.Fatalf("composite %s: %v", r.ReferenceID, r.Err())
		}
	}
	if !strings.Contains(string(sub[2].Body), `"AccountId":"001`) || sub[0].StatusCode != 201 {
		t.Errorf("composite = %s / %d", sub[2].Body, sub[0].StatusCode)
	}

	// Query with paging (batch size 2), relationship field.
	var names []string
	err = c.QueryEach(ctx, "SELECT Id, LastName, Account.Name FROM Contact WHERE LastName != null ORDER BY LastName", func(rs []salesforce.Record) error {
		if len(rs) > 2 {
			t.Errorf("page of %d records with batch size 2", len(rs))
		}
		for _, r := range rs {
			acct := ""
			if m, ok := r.Fields["Account"].(map[string]any); ok {
				acct = fmt.Sprint(m["Name"])
			}
			names = append(names, r.Text("LastName")+"@"+acct)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A@Globex", "Lumbergh@Initech", "New@", "Wei@"}; !reflect.DeepEqual(names, want) {
		t.Errorf("query = %v, want %v", names, want)
	}

	// Deletes, getUpdated/getDeleted.
	s.clock.Add(time.Minute)
	if err := c.DeleteRecord(ctx, "Lead", id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRecord(ctx, "Lead", id); !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("get deleted lead: %v", err)
	}
	del, err := c.DeleteRecords(ctx, []string{newContact, id})
	if err != nil || !del[0].OK() || !errors.Is(del[1].Err(), crmsync.ErrNotFound) {
		t.Errorf("delete records = %+v, %v", del, err)
	}
	s.clock.Add(2 * time.Minute)
	now := s.clock.Now()
	upd, err := c.GetUpdated(ctx, "Contact", now.Add(-time.Hour), now)
	if err != nil || len(upd.IDs) != 3 || upd.LatestDateCovered.IsZero() {
		t.Errorf("getUpdated = %+v, %v", upd, err)
	}
	gone, err := c.GetDeleted(ctx, "Lead", now.Add(-time.Hour), now)
	if err != nil || len(gone.DeletedRecords) != 1 || gone.DeletedRecords[0].ID != id || !gone.DeletedRecords[0].DeletedDate.Equal(time.Date(2026, 11, 23, 12, 2, 0, 0, time.UTC)) {
		t.Errorf("getDeleted = %+v, %v", gone, err)
	}

	// Describe and limits.
	d, err := c.Describe(ctx, "Lead")
	if err != nil {
		t.Fatal(err)
	}
	band, _ := d.Field("Score_Band__c")
	last, _ := d.Field("LastName")
	state, _ := d.Field("StateCode")
	country, _ := d.Field("CountryCode")
	if !band.Calculated || band.Updateable || !last.Required() || d.KeyPrefix != "00Q" || state.ControllerName != "CountryCode" {
		t.Errorf("describe: band %+v last %+v", band, last)
	}
	usIndex := -1
	for i, v := range country.PicklistValues {
		if v.Value == "US" {
			usIndex = i
		}
	}
	for _, v := range state.PicklistValues {
		if got, want := v.ValidForIndex(usIndex), v.Value == "CA" || v.Value == "NY" || v.Value == "TX" || v.Value == "WA"; got != want {
			t.Errorf("state %s valid for US = %v", v.Value, got)
		}
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	used, max := s.org.APIUsage()
	if api := lim["DailyApiRequests"]; api.Max != int64(max) || api.Used() != int64(used) || len(api.PerApp) != 2 {
		t.Errorf("limits = %+v (org used %d of %d)", api, used, max)
	}
	li, calls := c.LimitInfo()
	if li.Used != int64(used) || li.Max != int64(max) || int(calls) != used || len(infos) != used {
		t.Errorf("limit info %+v after %d calls; org counted %d", li, calls, used)
	}
}
