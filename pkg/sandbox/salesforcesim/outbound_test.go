package salesforcesim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// receiver is crmsync's real Outbound Message handler behind an HTTP
// server, with a queue that drops repeated dedupe keys.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	fail     error
	sent     []crmsync.Trigger
	keys     map[string]bool
	messages int
}

func (r *receiver) Send(_ context.Context, ts []crmsync.Trigger) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for _, t := range ts {
		if !r.keys[t.DedupeKey] {
			r.keys[t.DedupeKey] = true
			r.sent = append(r.sent, t)
		}
	}
	return nil
}

func (r *receiver) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func (r *receiver) triggers() []crmsync.Trigger {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]crmsync.Trigger(nil), r.sent...)
}

func newReceiver(t *testing.T, orgID string) *receiver {
	rc := &receiver{keys: map[string]bool{}}
	h := &salesforce.OutboundReceiver{OrgID: orgID, Token: "tok", Queue: rc, Logger: slog.New(slog.DiscardHandler)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		rc.mu.Lock()
		rc.messages++
		rc.mu.Unlock()
		resp, _ := h.Handle(req.Context(), events.APIGatewayV2HTTPRequest{
			Body: string(b), QueryStringParameters: map[string]string{"token": req.URL.Query().Get("token")},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: req.Method}},
		})
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write([]byte(resp.Body))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func TestOutboundMessagesEndToEnd(t *testing.T) {
	s := newSim(t, Config{})
	rc := newReceiver(t, salesforce.ID15(s.org.OrgID()))
	s.org.AddOutboundRule(OutboundRule{Name: "Lead_Changes", Object: "Lead", OnUpdate: true,
		Fields: []string{"Email", "Status", "Phone", "Score__c", "Score_Band__c", "SystemModstamp"}, URL: rc.srv.URL + "?token=tok"})
	s.org.AddOutboundRule(OutboundRule{Name: "New_Contacts", Object: "Contact", Fields: []string{"Email"}, URL: rc.srv.URL + "?token=tok"})
	c := s.client(t, "")
	ctx := context.Background()
	var ids []string
	for i := range 250 {
		id, err := c.CreateRecord(ctx, "Lead", map[string]any{"LastName": fmt.Sprint("L", i), "Company": "C", "Email": fmt.Sprintf("l%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	contact, _ := c.CreateRecord(ctx, "Contact", map[string]any{"LastName": "Wei"})
	if err := c.UpdateRecord(ctx, "Contact", contact, map[string]any{"Title": "CTO"}); err != nil { // rule is create-only
		t.Fatal(err)
	}
	if n := s.org.PendingOutbound(); n != 251 {
		t.Fatalf("%d pending, want 250 leads + 1 contact", n)
	}
	acked, err := s.org.DeliverOutbound(ctx)
	if err != nil || acked != 251 || s.org.PendingOutbound() != 0 {
		t.Fatalf("delivered %d, %v; pending %d", acked, err, s.org.PendingOutbound())
	}
	var sizes []int
	for _, d := range s.org.Deliveries() {
		if !d.Ack || d.Status != 200 {
			t.Errorf("delivery %+v", d)
		}
		sizes = append(sizes, len(d.NotificationIDs))
	}
	if !slices.Equal(sizes, []int{100, 100, 50, 1}) {
		t.Errorf("message sizes = %v, want ≤100 per message", sizes)
	}
	got := rc.triggers()
	if len(got) != 251 {
		t.Fatalf("%d triggers queued", len(got))
	}
	first := got[0]
	if first.Record.Object != crmsync.SFLead || first.Record.ID != ids[0] || first.Kind != crmsync.KindPropertyChanged ||
		!slices.Contains(first.Properties, "Email") || !first.OccurredAt.Equal(s.clock.Now()) {
		t.Errorf("first trigger = %+v", first)
	}

	// An edit that changes nothing sends nothing; a real change does.
	if err := c.UpdateRecord(ctx, "Lead", ids[0], map[string]any{"Email": "l0@example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := s.org.PendingOutbound(); n != 0 {
		t.Errorf("no-op edit queued %d notifications", n)
	}
	if err := c.UpdateRecord(ctx, "Lead", ids[0], map[string]any{"Score__c": 80}); err != nil {
		t.Fatal(err)
	}
	if n := s.org.PendingOutbound(); n != 1 {
		t.Errorf("real edit queued %d notifications", n)
	}
}

func TestOutboundRetriesUntilAck(t *testing.T) {
	s := newSim(t, Config{})
	rc := newReceiver(t, s.org.OrgID())
	s.org.AddOutboundRule(OutboundRule{Name: "Leads", Object: "Lead", Fields: []string{"Email"}, URL: rc.srv.URL + "?token=tok"})
	if _, err := s.org.CreateAs("", "Lead", map[string]any{"LastName": "x", "Company": "y"}); err != nil {
		t.Fatal(err)
	}
	rc.setFail(errors.New("queue down"))
	ctx := context.Background()
	if n, _ := s.org.DeliverOutbound(ctx); n != 0 {
		t.Fatalf("acked %d while the receiver faults", n)
	}
	// Not due again until the back-off (15 s, then 30 s) has passed.
	if _, _ = s.org.DeliverOutbound(ctx); len(s.org.Deliveries()) != 1 {
		t.Errorf("retried before the back-off: %d deliveries", len(s.org.Deliveries()))
	}
	s.clock.Add(15 * time.Second)
	_, _ = s.org.DeliverOutbound(ctx)
	s.clock.Add(29 * time.Second)
	_, _ = s.org.DeliverOutbound(ctx)
	if n := len(s.org.Deliveries()); n != 2 {
		t.Errorf("%d deliveries, want 2 (second back-off is 30 s)", n)
	}
	rc.setFail(nil)
	s.clock.Add(time.Second)
	if n, err := s.org.DeliverOutbound(ctx); n != 1 || err != nil {
		t.Errorf("after recovery acked %d, %v", n, err)
	}
	ds := s.org.Deliveries()
	if len(ds) != 3 || ds[0].Ack || ds[0].Status != 500 || !ds[2].Ack || ds[2].Attempt != 3 || ds[0].NotificationIDs[0] != ds[2].NotificationIDs[0] {
		t.Errorf("deliveries = %+v", ds)
	}
	if len(rc.triggers()) != 1 || s.org.PendingOutbound() != 0 {
		t.Errorf("triggers %d, pending %d", len(rc.triggers()), s.org.PendingOutbound())
	}
}

func TestOutboundGivesUpAfter24h(t *testing.T) {
	s := newSim(t, Config{})
	s.org.AddOutboundRule(OutboundRule{Name: "Leads", Object: "Lead", URL: "http://127.0.0.1:1/unreachable"})
	if _, err := s.org.CreateAs("", "Lead", map[string]any{"LastName": "x", "Company": "y"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 30 {
		_, _ = s.org.DeliverOutbound(ctx)
		s.clock.Add(time.Hour)
	}
	_, _ = s.org.DeliverOutbound(ctx)
	if len(s.org.ExpiredOutbound()) != 1 || s.org.PendingOutbound() != 0 {
		t.Errorf("expired %v, pending %d", s.org.ExpiredOutbound(), s.org.PendingOutbound())
	}
	ds := s.org.Deliveries()
	if len(ds) < 10 || ds[0].Err == "" {
		t.Errorf("%d deliveries before giving up; first %+v", len(ds), ds[0])
	}
}

func TestOutboundDuplicateAndReorder(t *testing.T) {
	s := newSim(t, Config{Seed: 7})
	rc := newReceiver(t, s.org.OrgID())
	s.org.AddOutboundRule(OutboundRule{Name: "Leads", Object: "Lead", Fields: []string{"LastName"}, URL: rc.srv.URL + "?token=tok"})
	s.org.SetOutboundOptions(OutboundOptions{Duplicate: true, Reorder: true})
	var created []string
	for i := range 20 {
		id, _ := s.org.CreateAs("", "Lead", map[string]any{"LastName": fmt.Sprint(i), "Company": "y"})
		created = append(created, id)
	}
	ctx := context.Background()
	if n, _ := s.org.DeliverOutbound(ctx); n != 20 {
		t.Errorf("first round acked %d", n)
	}
	if n := s.org.PendingOutbound(); n != 20 {
		t.Errorf("%d kept for the duplicate delivery", n)
	}
	if n, _ := s.org.DeliverOutbound(ctx); n != 0 || s.org.PendingOutbound() != 0 {
		t.Errorf("duplicate round acked %d new, pending %d", n, s.org.PendingOutbound())
	}
	ds := s.org.Deliveries()
	if len(ds) != 2 || !slices.Equal(sortedCopy(ds[0].NotificationIDs), sortedCopy(ds[1].NotificationIDs)) {
		t.Fatalf("deliveries = %+v", ds)
	}
	var order []string
	for _, tr := range rc.triggers() {
		order = append(order, tr.Record.ID)
	}
	if len(order) != 20 || slices.Equal(order, created) || !slices.Equal(sortedCopy(order), sortedCopy(created)) {
		t.Errorf("triggers: %d, reordered %v; the duplicate must add none", len(order), !slices.Equal(order, created))
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestLeadConversionAndOpportunities(t *testing.T) {
	s := newSim(t, Config{})
	rc := newReceiver(t, s.org.OrgID())
	s.org.AddOutboundRule(OutboundRule{Name: "Contacts", Object: "Contact", Fields: []string{"Email", "AccountId"}, URL: rc.srv.URL + "?token=tok"})
	c := s.client(t, "")
	ctx := context.Background()
	lead, err := c.CreateRecord(ctx, "Lead", map[string]any{"FirstName": "Ana", "LastName": "Silva", "Company": "Silva Lda",
		"Email": "ana@example.com", "CountryCode": "US", "StateCode": "NY"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.org.ConvertLead("", lead, ConvertOptions{CreateOpportunity: true})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := c.GetRecord(ctx, "Lead", lead)
	if l.Fields["IsConverted"] != true || l.Text("ConvertedContactId") != res.ContactID || l.Text("Status") != "Closed - Converted" {
		t.Errorf("lead after conversion = %+v", l.Fields)
	}
	ct, _ := c.GetRecord(ctx, "Contact", res.ContactID)
	if ct.Text("Email") != "ana@example.com" || ct.Text("AccountId") != res.AccountID || ct.Text("MailingStateCode") != "NY" {
		t.Errorf("contact = %+v", ct.Fields)
	}
	err = c.UpdateRecord(ctx, "Lead", lead, map[string]any{"Title": "x"})
	if code, _, _ := codeOf(t, err); code != "CANNOT_UPDATE_CONVERTED_LEAD" {
		t.Errorf("update converted lead: %v", err)
	}
	q, err := c.Query(ctx, "SELECT ContactId, Role, IsPrimary FROM OpportunityContactRole WHERE OpportunityId = '"+res.OpportunityID+"'")
	if err != nil || q.TotalSize != 1 || q.Records[0].Text("ContactId") != res.ContactID || q.Records[0].Fields["IsPrimary"] != true {
		t.Errorf("contact roles = %+v, %v", q, err)
	}
	// Close the opportunity: IsWon/IsClosed are formula fields.
	if err := c.UpdateRecord(ctx, "Opportunity", res.OpportunityID, map[string]any{"StageName": "Closed Won"}); err != nil {
		t.Fatal(err)
	}
	opp, _ := c.GetRecord(ctx, "Opportunity", res.OpportunityID, "IsWon", "IsClosed")
	if opp.Fields["IsWon"] != true || opp.Fields["IsClosed"] != true {
		t.Errorf("opportunity = %+v", opp.Fields)
	}
	if n, _ := s.org.DeliverOutbound(ctx); n != 1 || rc.triggers()[0].Record.ID != res.ContactID {
		t.Errorf("conversion sent %d contact notifications", n)
	}
}

func TestAdminAPI(t *testing.T) {
	s := newSim(t, Config{})
	rep := s.org.AddUser("rep@acme.example", "Sales Rep")
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, s.srv.URL+prefix+path, strings.NewReader(body))
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := do("POST", "/admin/sobjects/Lead?as="+rep, `{"LastName":"Rep's lead","Company":"C"}`)
	var created struct{ ID string }
	if status != 201 || json.Unmarshal([]byte(body), &created) != nil {
		t.Fatalf("create as rep: %d %s", status, body)
	}
	if rec, _ := s.org.Get(created.ID); rec["OwnerId"] != rep {
		t.Errorf("owner = %v, want the acting user", rec["OwnerId"])
	}
	if status, body := do("POST", "/admin/sobjects/Lead", `{"LastName":"no company"}`); status != 400 || !strings.Contains(body, "REQUIRED_FIELD_MISSING") {
		t.Errorf("invalid admin create: %d %s", status, body)
	}
	if status, body := do("GET", "/admin/sobjects/Lead/"+created.ID, ""); status != 200 || !strings.Contains(body, "Rep's lead") {
		t.Errorf("admin read: %d %s", status, body)
	}
	if status, body := do("POST", "/admin/leads/"+created.ID+"/convert?as="+rep, `{"createOpportunity":true}`); status != 200 || !strings.Contains(body, `"opportunityId":"006`) {
		t.Errorf("convert: %d %s", status, body)
	}
	if status, body := do("GET", "/admin/usage", ""); status != 200 || body != "{\"limit\":15000,\"used\":0}\n" {
		t.Errorf("usage: %d %s (admin calls are not counted)", status, body)
	}
}

// BenchmarkCollectionUpdate10k updates 10 000 leads through the client
// against the simulator (sObject Collections, 200 per call).
func BenchmarkCollectionUpdate10k(b *testing.B) {
	s := newSim(b, Config{DailyLimit: 1 << 30})
	c := s.client(b, "")
	ctx := context.Background()
	recs := make([]salesforce.Record, 10000)
	for i := range recs {
		recs[i] = salesforce.Record{Type: "Lead", Fields: map[string]any{"LastName": fmt.Sprint("L", i), "Company": "C"}}
	}
	res, err := c.CreateRecords(ctx, recs)
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range res {
		recs[i] = salesforce.Record{Type: "Lead", ID: r.ID, Fields: map[string]any{"Title": "", "Score__c": 0}}
	}
	_, before := c.LimitInfo()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for i := range recs {
			recs[i].Fields["Title"] = fmt.Sprint("T", n)
			recs[i].Fields["Score__c"] = n
		}
		res, err := c.UpdateRecords(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if !r.OK() {
				b.Fatal(r.Err())
			}
		}
	}
	_, after := c.LimitInfo()
	b.ReportMetric(float64(after-before)/float64(b.N), "calls/op")
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "records/s")
}
