package hubspotsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
)

// get decodes a GET answer into v and returns the status.
func (e *env) get(t *testing.T, path string, v any) int {
	t.Helper()
	resp, b := e.raw(t, http.MethodGet, path, "")
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

// wantError checks a JSON error answer's status and category.
func (e *env) wantError(t *testing.T, path string, status int, category string) {
	t.Helper()
	code, _, v := e.call(t, http.MethodGet, path, "")
	if code != status || field(v, "status") != "error" || (category != "" && field(v, "category") != category) {
		t.Errorf("GET %s = %d %v, want %d %s in HubSpot's error shape", path, code, v, status, category)
	}
}

type submissionsPage struct {
	Results []struct {
		ConversionID string `json:"conversionId"`
		SubmittedAt  int64  `json:"submittedAt"`
		Values       []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"values"`
		PageURL string `json:"pageUrl"`
	} `json:"results"`
	Paging *struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func TestFormsAndSubmissions(t *testing.T) {
	e, hooks := newWebhookEnv(t, hookSecret, hubspotsim.Config{})
	var forms []hubspotsim.Form
	for _, name := range []string{"Contact us", "Demo request", "Newsletter"} {
		f, err := e.portal.CreateForm(name)
		if err != nil {
			t.Fatal(err)
		}
		forms = append(forms, f)
	}
	// The forms list pages with after, in creation order.
	var page struct {
		Results []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			FormType    string `json:"formType"`
			FieldGroups []struct {
				Fields []struct {
					Name         string `json:"name"`
					ObjectTypeID string `json:"objectTypeId"`
				} `json:"fields"`
			} `json:"fieldGroups"`
		} `json:"results"`
		Paging *struct {
			Next struct{ After string } `json:"next"`
		} `json:"paging"`
	}
	if code := e.get(t, "/marketing/v3/forms/?limit=2", &page); code != 200 || len(page.Results) != 2 || page.Paging == nil {
		t.Fatalf("forms page 1 = %d %+v", code, page)
	}
	if page.Results[0].ID != forms[0].ID || page.Results[0].FormType != "hubspot" || page.Results[0].FieldGroups[0].Fields[0].Name != "email" ||
		page.Results[0].FieldGroups[0].Fields[0].ObjectTypeID != "0-1" {
		t.Errorf("first form = %+v", page.Results[0])
	}
	after := page.Paging.Next.After
	page.Results, page.Paging = nil, nil
	if code := e.get(t, "/marketing/v3/forms?limit=2&after="+url.QueryEscape(after), &page); code != 200 || len(page.Results) != 1 ||
		page.Results[0].Name != "Newsletter" || page.Paging != nil {
		t.Fatalf("forms page 2 = %d %+v", code, page)
	}
	e.wantError(t, "/marketing/v3/forms/?limit=0", 400, "VALIDATION_ERROR")
	e.wantError(t, "/marketing/v3/forms/?formTypes=hubspot&formTypes=popup", 400, "VALIDATION_ERROR")
	page.Results = nil
	if code := e.get(t, "/marketing/v3/forms/?formTypes=captured,flow", &page); code != 200 || len(page.Results) != 0 {
		t.Errorf("captured and flow forms = %d %+v, want none (every sim form is a hubspot form)", code, page)
	}
	e.wantError(t, "/marketing/v3/forms/no-such-form", 404, "OBJECT_NOT_FOUND")

	// Three submissions by one person, a minute apart, on two forms.
	form := forms[1]
	var subs []hubspotsim.Submission
	for i, f := range []hubspotsim.Form{forms[1], forms[1], forms[0]} {
		s, err := e.portal.SubmitForm(f.ID, hubspotsim.Submission{PageURL: "https://example.com/demo",
			Values: []hubspotsim.FormValue{{Name: "email", Value: "grace@example.com"}, {Name: "firstname", Value: "Grace" + strconv.Itoa(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
		e.clock.Add(time.Minute)
	}
	if subs[0].ContactID == "" || subs[1].ContactID != subs[0].ContactID || subs[0].ConversionID == subs[1].ConversionID {
		t.Fatalf("submissions = %+v", subs)
	}
	contact, _ := e.portal.Object(crmsync.HSContact, subs[0].ContactID)
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for k, want := range map[string]string{
		"email": "grace@example.com", "firstname": "Grace2", "num_conversion_events": "3", "num_unique_conversion_events": "2",
		"first_conversion_event_name": "Demo request", "first_conversion_date": "2026-11-23T12:00:00.000Z",
		"recent_conversion_event_name": "Contact us", "recent_conversion_date": "2026-11-23T12:02:00.000Z",
	} {
		if got := contact.Properties[k]; got != want {
			t.Errorf("contact %s = %q, want %q", k, got, want)
		}
	}

	// The form's submissions come newest first, two per page.
	var sp submissionsPage
	path := "/form-integrations/v1/submissions/forms/" + form.ID
	if code := e.get(t, path+"?limit=1", &sp); code != 200 || len(sp.Results) != 1 || sp.Paging == nil {
		t.Fatalf("submissions = %d %+v", code, sp)
	}
	if r := sp.Results[0]; r.ConversionID != subs[1].ConversionID || r.SubmittedAt != start.Add(time.Minute).UnixMilli() ||
		r.PageURL != "https://example.com/demo" || len(r.Values) != 2 || r.Values[0] != (struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}{"email", "grace@example.com"}) {
		t.Errorf("newest submission = %+v", r)
	}
	// A submission made while paging does not repeat or shift the pages.
	if _, err := e.portal.SubmitForm(form.ID, hubspotsim.Submission{Values: []hubspotsim.FormValue{{Name: "email", Value: "new@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	next := sp.Paging.Next.After
	sp = submissionsPage{}
	if code := e.get(t, path+"?limit=1&after="+url.QueryEscape(next), &sp); code != 200 || len(sp.Results) != 1 ||
		sp.Results[0].ConversionID != subs[0].ConversionID || sp.Paging != nil {
		t.Fatalf("submissions page 2 = %d %+v", code, sp)
	}
	e.wantError(t, path+"?limit=51", 400, "VALIDATION_ERROR")
	e.wantError(t, "/form-integrations/v1/submissions/forms/00000000-0000-4000-8000-000000000000", 404, "OBJECT_NOT_FOUND")
	if _, err := e.portal.SubmitForm("nope", hubspotsim.Submission{}); err == nil {
		t.Error("a submission to an unknown form was accepted")
	}

	// The contact's changes reach the webhook as form changes.
	if err := e.portal.FlushWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	var fromForm int
	for _, tr := range hooks.got() {
		if tr.Record.ID == subs[0].ContactID && tr.ChangeSource == "FORM/"+forms[1].ID {
			fromForm++
		}
	}
	if fromForm == 0 {
		t.Errorf("no webhook event for the contact with changeSource FORM: %+v", hooks.got())
	}
}

type emailEventsPage struct {
	Events  []hubspotsim.EmailEvent `json:"events"`
	HasMore bool                    `json:"hasMore"`
	Offset  string                  `json:"offset"`
}

func TestEmailEvents(t *testing.T) {
	e, hooks := newWebhookEnv(t, hookSecret, hubspotsim.Config{})
	contact, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	camp := e.portal.CreateEmailCampaign("November newsletter", "What's new")
	start := e.clock.Now()
	record := func(typ, url string) hubspotsim.EmailEvent {
		t.Helper()
		ev, err := e.portal.RecordEmailEvent(hubspotsim.EmailEventInput{Type: typ, Recipient: "Ada@example.com", EmailCampaignID: camp.ID, URL: url})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute)
		return ev
	}
	sent := record("SENT", "")
	record("DELIVERED", "")
	open := record("OPEN", "")
	click := record("CLICK", "https://example.com/offer")
	if open.SentBy == nil || open.SentBy.ID != sent.ID || click.URL != "https://example.com/offer" || sent.Subject != "What's new" {
		t.Errorf("events = %+v %+v %+v", sent, open, click)
	}
	if _, err := e.portal.RecordEmailEvent(hubspotsim.EmailEventInput{Type: "OPEN", Recipient: "nobody@example.com", EmailCampaignID: camp.ID}); err == nil {
		t.Error("an event for an unknown recipient was recorded")
	}
	if _, err := e.portal.RecordEmailEvent(hubspotsim.EmailEventInput{Type: "open", Recipient: "ada@example.com", EmailCampaignID: camp.ID}); err == nil {
		t.Error("a lower-case type was accepted (types are case-sensitive)")
	}
	// A filtered (bot) open is listed but changes nothing.
	if _, err := e.portal.RecordEmailEvent(hubspotsim.EmailEventInput{Type: "OPEN", Recipient: "ada@example.com", EmailCampaignID: camp.ID, Filtered: true}); err != nil {
		t.Fatal(err)
	}

	got, _ := e.portal.Object(crmsync.HSContact, contact.ID)
	at := func(m int) string {
		return start.Add(time.Duration(m) * time.Minute).Format("2006-01-02T15:04:05.000Z")
	}
	for k, want := range map[string]string{"hs_email_last_send_date": at(0), "hs_email_last_email_name": "November newsletter",
		"hs_email_delivered": "1", "hs_email_last_open_date": at(2), "hs_email_first_open_date": at(2), "hs_email_open": "1",
		"hs_email_last_click_date": at(3), "hs_email_click": "1"} {
		if got.Properties[k] != want {
			t.Errorf("contact %s = %q, want %q", k, got.Properties[k], want)
		}
	}

	// Newest first, paged by offset.
	var p emailEventsPage
	if code := e.get(t, "/email/public/v1/events?limit=2&excludeFilteredEvents=true", &p); code != 200 || len(p.Events) != 2 || !p.HasMore {
		t.Fatalf("page 1 = %d %+v", code, p)
	}
	if p.Events[0].ID != click.ID || p.Events[1].ID != open.ID || p.Events[0].PortalID != 62515 || p.Events[0].AppID != 113 || p.Events[0].Type != "CLICK" {
		t.Errorf("page 1 = %+v", p.Events)
	}
	off := p.Offset
	p = emailEventsPage{}
	if code := e.get(t, "/email/public/v1/events?limit=2&excludeFilteredEvents=true&offset="+url.QueryEscape(off), &p); code != 200 ||
		len(p.Events) != 2 || p.HasMore || p.Events[1].ID != sent.ID {
		t.Fatalf("page 2 = %d %+v", code, p)
	}
	// Filters: type, time window (inclusive), recipient, campaign.
	for query, want := range map[string]int{
		"eventType=OPEN": 2, "eventType=OPEN&excludeFilteredEvents=true": 1,
		fmt.Sprintf("startTimestamp=%d&endTimestamp=%d", start.Add(time.Minute).UnixMilli(), start.Add(2*time.Minute).UnixMilli()): 2,
		"recipient=ada%40example.com": 5, "recipient=other%40example.com": 0,
		fmt.Sprintf("campaignId=%d", camp.ID): 5, fmt.Sprintf("campaignId=%d", camp.ID+1): 0,
	} {
		p = emailEventsPage{}
		if code := e.get(t, "/email/public/v1/events?limit=1000&"+query, &p); code != 200 || len(p.Events) != want {
			t.Errorf("%s: %d, %d events, want %d", query, code, len(p.Events), want)
		}
	}
	for _, bad := range []string{"limit=1001", "limit=0", "eventType=OPENED", "startTimestamp=yesterday", "offset=bm90LWEtdG9rZW4"} {
		if code, _, _ := e.call(t, http.MethodGet, "/email/public/v1/events?"+bad, ""); code != 400 {
			t.Errorf("%s = %d, want 400", bad, code)
		}
	}

	// One event by created and id; the campaign.
	var one hubspotsim.EmailEvent
	if code := e.get(t, fmt.Sprintf("/email/public/v1/events/%d/%s", open.Created, open.ID), &one); code != 200 || one.ID != open.ID || one.Created != open.Created ||
		one.SentBy == nil || *one.SentBy != *open.SentBy || one.Type != "OPEN" {
		t.Errorf("event = %d %+v", code, one)
	}
	e.wantError(t, fmt.Sprintf("/email/public/v1/events/%d/%s", open.Created+1, open.ID), 404, "")
	e.wantError(t, "/email/public/v1/events/created/"+open.ID, 400, "")
	var c struct {
		ID       int64          `json:"id"`
		Name     string         `json:"name"`
		Subject  string         `json:"subject"`
		AppID    int64          `json:"appId"`
		Counters map[string]int `json:"counters"`
	}
	if code := e.get(t, fmt.Sprintf("/email/public/v1/campaigns/%d", camp.ID), &c); code != 200 || c.Name != "November newsletter" ||
		c.Subject != "What's new" || c.Counters["open"] != 2 || c.Counters["sent"] != 1 {
		t.Errorf("campaign = %d %+v", code, c)
	}
	e.wantError(t, fmt.Sprintf("/email/public/v1/campaigns/%d", camp.ID+1), 404, "OBJECT_NOT_FOUND")

	if err := e.portal.FlushWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	var props []string
	for _, tr := range hooks.got() {
		if tr.Record.ID == contact.ID && tr.ChangeSource == "EMAIL" {
			props = append(props, tr.Properties...)
		}
	}
	for _, want := range []string{"hs_email_last_send_date", "hs_email_last_open_date", "hs_email_last_click_date"} {
		if !slices.Contains(props, want) {
			t.Errorf("no webhook for %s (got %v)", want, props)
		}
	}
}

func TestEngagementsNeedTimestampAndAssociate(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{})
	contact, _ := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": "eng@example.com"})
	deal, _ := e.portal.CreateAsUser(crmsync.HSDeal, map[string]string{"dealname": "Big one"})

	// hs_timestamp is required on every engagement created through the API.
	for _, typ := range []string{"calls", "emails", "meetings", "notes", "tasks"} {
		code, _, v := e.call(t, http.MethodPost, "/crm/v3/objects/"+typ, `{"properties":{"hs_note_body":"x"}}`)
		if code != 400 || field(v, "category") != "VALIDATION_ERROR" || !strings.HasPrefix(field(v, "message").(string), "Error creating ") ||
			fmt.Sprint(field(v, "context", "properties")) != "[hs_timestamp]" {
			t.Errorf("%s without hs_timestamp = %d %v", typ, code, v)
		}
	}
	code, _, v := e.call(t, http.MethodPost, "/crm/v3/objects/calls/batch/create", `{"inputs":[{"properties":{"hs_call_title":"x"}}]}`)
	if code != 400 || fmt.Sprint(field(v, "context", "properties")) != "[hs_timestamp]" {
		t.Errorf("batch create without hs_timestamp = %d %v", code, v)
	}
	if code, _, _ := e.call(t, http.MethodPost, "/crm/v3/objects/notes", `{"properties":{"hs_timestamp":"soon"}}`); code != 400 {
		t.Errorf("hs_timestamp %q accepted: %d", "soon", code)
	}

	// A call associated with a contact and a deal at creation (HubSpot's
	// default types 194 and 206), hs_timestamp in milliseconds.
	body := fmt.Sprintf(`{"properties":{"hs_timestamp":"1795435200000","hs_call_title":"Intro"},"associations":[
		{"to":{"id":%q},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":194}]},
		{"to":{"id":%q},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":206}]}]}`, contact.ID, deal.ID)
	code, _, v = e.call(t, http.MethodPost, "/crm/v3/objects/calls", body)
	if code != 201 || field(v, "properties", "hs_timestamp") != "2026-11-23T12:00:00.000Z" {
		t.Fatalf("create call = %d %v", code, v)
	}
	callID := field(v, "id").(string)
	code, _, v = e.call(t, http.MethodGet, "/crm/v3/objects/calls/"+callID+"?associations=contacts,deals", "")
	if code != 200 || fmt.Sprint(field(v, "associations", "contacts", "results")) != fmt.Sprintf("[map[id:%s type:call_to_contact]]", contact.ID) ||
		fmt.Sprint(field(v, "associations", "deals", "results")) != fmt.Sprintf("[map[id:%s type:call_to_deal]]", deal.ID) {
		t.Errorf("call with associations = %d %v", code, v)
	}
	// Both directions in v4, with HubSpot's type ids.
	code, _, v = e.call(t, http.MethodGet, "/crm/v4/objects/contacts/"+contact.ID+"/associations/calls", "")
	if code != 200 || !strings.Contains(fmt.Sprint(v), "toObjectId:"+callID) || !strings.Contains(fmt.Sprint(v), "typeId:193") {
		t.Errorf("contact → calls = %d %v", code, v)
	}
	// A note associated later through v4 (default type), read back.
	note, _ := e.portal.CreateAsUser(crmsync.HSNote, map[string]string{"hs_note_body": "later"})
	if note.Properties["hs_timestamp"] == "" {
		t.Error("a note made in the UI has no hs_timestamp")
	}
	if code, _, v := e.call(t, http.MethodPut, "/crm/v4/objects/notes/"+note.ID+"/associations/default/deals/"+deal.ID, ""); code != 200 ||
		!strings.Contains(fmt.Sprint(v), "associationTypeId:214") {
		t.Errorf("note → deal default = %d %v", code, v)
	}
	if got := e.portal.Associations(crmsync.HSDeal, deal.ID, crmsync.HSNote); !slices.Equal(got, []string{note.ID}) {
		t.Errorf("deal's notes = %v", got)
	}

	// A type id of another pair, or a target that does not exist, is
	// refused and nothing is created.
	before := len(e.portal.Objects(crmsync.HSCall))
	for _, assoc := range []string{
		fmt.Sprintf(`{"to":{"id":%q},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":202}]}`, contact.ID),
		`{"to":{"id":"999"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":194}]}`,
		fmt.Sprintf(`{"to":{"id":%q},"types":[]}`, contact.ID),
	} {
		if code, _, v := e.call(t, http.MethodPost, "/crm/v3/objects/calls", `{"properties":{"hs_timestamp":"2026-11-23T12:00:00Z"},"associations":[`+assoc+`]}`); code != 400 {
			t.Errorf("association %s = %d %v", assoc, code, v)
		}
	}
	if after := len(e.portal.Objects(crmsync.HSCall)); after != before {
		t.Errorf("refused creates made %d calls", after-before)
	}
}

// TestActivityFeedAgainstPortal runs crmsync's activity feed against the
// portal: real paging of forms, submissions and email events.
func TestActivityFeedAgainstPortal(t *testing.T) {
	// The client's poll ends now (real time): the portal's clock runs
	// behind it.
	clk := &clock{t: time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)}
	e := newEnv(t, hubspotsim.Config{Now: clk.Now})
	start := clk.Now()
	ctx := t.Context()

	// 60 submissions of one form (two pages of 50), 3 of another.
	a, _ := e.portal.CreateForm("Contact us")
	b, _ := e.portal.CreateForm("Webinar")
	var want []string
	for i := range 63 {
		f := a
		if i%21 == 20 {
			f = b
		}
		s, err := e.portal.SubmitForm(f.ID, hubspotsim.Submission{PageURL: "https://example.com/p",
			Values: []hubspotsim.FormValue{{Name: "email", Value: fmt.Sprintf("v%d@example.com", i)}}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, f.ID+"/"+s.ConversionID)
		clk.Add(time.Second)
	}
	got, err := e.client.FormSubmissions(ctx, start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.ID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("submissions: %d, want %d oldest first", len(ids), len(want))
	}
	if got[20].FormName != "Webinar" || got[20].ContactEmail != "v20@example.com" || got[20].URL != "https://example.com/p" {
		t.Errorf("submission 20 = %+v", got[20])
	}
	got, err = e.client.FormSubmissions(ctx, start.Add(50*time.Second), 5)
	if err != nil || len(got) != 5 || got[0].ID != want[50] {
		t.Errorf("from the 50th, 5: %v, %v", got, err)
	}

	// 1 200 email events, one a second: SENT, DELIVERED, OPEN per person.
	camp := e.portal.CreateEmailCampaign("December digest", "Happy holidays")
	evStart := clk.Now()
	var kept []string
	for i := range 400 {
		email := fmt.Sprintf("r%d@example.com", i)
		if _, err := e.portal.CreateAsUser(crmsync.HSContact, map[string]string{"email": email}); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"SENT", "DELIVERED", "OPEN"} {
			ev, err := e.portal.RecordEmailEvent(hubspotsim.EmailEventInput{Type: typ, Recipient: email, EmailCampaignID: camp.ID})
			if err != nil {
				t.Fatal(err)
			}
			if typ != "DELIVERED" {
				kept = append(kept, ev.ID)
			}
			clk.Add(time.Second)
		}
	}
	calls := e.portal.Calls()
	evs, err := e.client.EmailEvents(ctx, evStart, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 50 || evs[0].ID != kept[0] || evs[49].ID != kept[49] || evs[0].EmailName != "December digest" || evs[1].EventType != "OPEN" {
		t.Fatalf("first 50 = %d events, first %+v", len(evs), evs[0])
	}
	if n := e.portal.Calls() - calls; n > 5 {
		t.Errorf("%d calls for the 50 oldest of 1 200 events", n)
	}
	evs, err = e.client.EmailEvents(ctx, evStart, 0)
	if err != nil || len(evs) != len(kept) || evs[len(evs)-1].ID != kept[len(kept)-1] {
		t.Errorf("all: %d events (%v), want %d", len(evs), err, len(kept))
	}
}

func TestMarketingRoutesAreRateLimited(t *testing.T) {
	e := newEnv(t, hubspotsim.Config{BurstLimit: 2})
	for i, path := range []string{"/marketing/v3/forms/", "/email/public/v1/events", "/form-integrations/v1/submissions/forms/x"} {
		code, h, v := e.call(t, http.MethodGet, path, "")
		if i < 2 && code == 429 || i == 2 && (code != 429 || field(v, "policyName") != "TEN_SECONDLY_ROLLING" || h.Get("Retry-After") == "") {
			t.Errorf("call %d %s = %d %v", i, path, code, v)
		}
	}
}
