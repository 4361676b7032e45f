package hubspotsim

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Marketing email events: the legacy email events API (GET
// /email/public/v1/events, newest first, offset tokens) and campaigns
// (GET /email/public/v1/campaigns/{campaignId}). Events are recorded
// through the admin API, as HubSpot's sends and recipients would make
// them, and keep the recipient contact's email properties current.

// EmailEventTypes are the event types of HubSpot's email events API (the
// overview's delivery, engagement and status events).
var EmailEventTypes = []string{"PROCESSED", "DROPPED", "DEFERRED", "BOUNCE", "DELIVERED", "SENT", "OPEN",
	"CLICK", "PRINT", "FORWARD", "STATUSCHANGE", "SPAMREPORT", "SUPPRESSED", "UNBOUNCE"}

// batchApp is the HubSpot app that sends batch marketing emails, as the
// events and campaigns name it (appId 113, appName "Batch").
const (
	batchAppID   = 113
	batchAppName = "Batch"
)

// EmailCampaign is a marketing email's campaign: the id email events name
// in emailCampaignId, and the email's name and subject.
type EmailCampaign struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Subject string `json:"subject"`
}

// EventRef names another event (sentBy: the SENT event of the message).
type EventRef struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
}

// EmailEvent is one event in the email events API's shape.
type EmailEvent struct {
	ID              string    `json:"id"`
	Created         int64     `json:"created"`
	Type            string    `json:"type"`
	Recipient       string    `json:"recipient"`
	PortalID        int64     `json:"portalId"`
	AppID           int64     `json:"appId"`
	AppName         string    `json:"appName"`
	EmailCampaignID int64     `json:"emailCampaignId"`
	SentBy          *EventRef `json:"sentBy,omitempty"`
	FilteredEvent   bool      `json:"filteredEvent"`
	// SENT events carry the subject and sender.
	Subject string `json:"subject,omitempty"`
	From    string `json:"from,omitempty"`
	// CLICK events carry the link; OPEN and CLICK the user agent.
	URL       string `json:"url,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// DELIVERED events carry the receiving server's response.
	Response string `json:"response,omitempty"`
}

// EmailEventInput is what RecordEmailEvent records: a Type of
// EmailEventTypes for the Recipient (a contact's email) from a campaign,
// at Created (default now); URL is a CLICK's link; Filtered marks an
// event HubSpot filtered out of reporting (a bot's open).
type EmailEventInput struct {
	Type            string    `json:"type"`
	Recipient       string    `json:"recipient"`
	EmailCampaignID int64     `json:"emailCampaignId"`
	URL             string    `json:"url"`
	Created         time.Time `json:"-"`
	Filtered        bool      `json:"filteredEvent"`
}

// emailProperties are the contact properties an event keeps current:
// the last (and first) time of it, and a counter.
var emailProperties = map[string]struct{ last, first, count string }{
	"SENT":      {last: "hs_email_last_send_date"},
	"DELIVERED": {count: "hs_email_delivered"},
	"OPEN":      {last: "hs_email_last_open_date", first: "hs_email_first_open_date", count: "hs_email_open"},
	"CLICK":     {last: "hs_email_last_click_date", first: "hs_email_first_click_date", count: "hs_email_click"},
}

// emailSource is how the sim reports a contact change an email event made.
var emailSource = source{changeSource: "EMAIL"}

// CreateEmailCampaign creates a marketing email's campaign.
func (p *Portal) CreateEmailCampaign(name, subject string) EmailCampaign {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextCampaign += 1 + int64(p.rng.IntN(5))
	c := EmailCampaign{ID: p.nextCampaign, Name: name, Subject: subject}
	p.campaigns[c.ID] = &c
	return c
}

// RecordEmailEvent records an email event, as a send and its recipient
// would make it. The recipient must be a contact (marketing email goes
// only to contacts) and the campaign must exist. An event that is not
// filtered updates the contact as HubSpot does — SENT
// hs_email_last_send_date and hs_email_last_email_name; OPEN and CLICK
// their last and first dates and counts; DELIVERED hs_email_delivered —
// with webhooks (changeSource EMAIL). Events other than SENT name the
// message's SENT event in sentBy.
func (p *Portal) RecordEmailEvent(in EmailEventInput) (EmailEvent, error) {
	if !slices.Contains(EmailEventTypes, in.Type) {
		return EmailEvent{}, &AdminError{Category: "VALIDATION_ERROR", Message: "unknown email event type " + strconv.Quote(in.Type)}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.campaigns[in.EmailCampaignID]
	if c == nil {
		return EmailEvent{}, &AdminError{Category: "OBJECT_NOT_FOUND", Message: "no email campaign " + strconv.FormatInt(in.EmailCampaignID, 10)}
	}
	contact := p.find(crmsync.HSContact, in.Recipient, "email")
	if contact == nil {
		return EmailEvent{}, &AdminError{Category: "OBJECT_NOT_FOUND", Message: "no contact has the email " + in.Recipient}
	}
	at := in.Created
	if at.IsZero() {
		at = p.now()
	}
	at = at.UTC().Truncate(time.Millisecond)
	e := EmailEvent{ID: p.newGUID(), Created: at.UnixMilli(), Type: in.Type, Recipient: contact.props["email"],
		PortalID: p.cfg.PortalID, AppID: batchAppID, AppName: batchAppName, EmailCampaignID: c.ID, FilteredEvent: in.Filtered}
	switch in.Type {
	case "SENT":
		e.Subject, e.From = c.Subject, "marketing@example.com"
	case "DELIVERED":
		e.Response = "250 2.0.0 OK"
	case "CLICK":
		e.URL = in.URL
		fallthrough
	case "OPEN":
		e.UserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
	}
	if in.Type != "SENT" {
		for _, sent := range slices.Backward(p.emailEvents) {
			if sent.Type == "SENT" && sent.EmailCampaignID == c.ID && strings.EqualFold(sent.Recipient, e.Recipient) {
				e.SentBy = &EventRef{ID: sent.ID, Created: sent.Created}
				break
			}
		}
	}
	if !in.Filtered {
		if err := p.updateEmailProperties(contact, c, in.Type, at); err != nil {
			return EmailEvent{}, adminErr(err)
		}
	}
	p.emailEvents = append(p.emailEvents, &e)
	return e, nil
}

// updateEmailProperties keeps a contact's email properties current after
// an event of type typ at t; p.mu is held.
func (p *Portal) updateEmailProperties(contact *record, c *EmailCampaign, typ string, t time.Time) *apiError {
	names, ok := emailProperties[typ]
	if !ok {
		return nil
	}
	props := map[string]string{}
	if names.last != "" {
		if last, ok := parseStamp(contact.props[names.last]); !ok || !t.Before(last) {
			props[names.last] = stamp(t)
			if typ == "SENT" {
				props["hs_email_last_email_name"] = c.Name
			}
		}
	}
	if names.first != "" {
		if first, ok := parseStamp(contact.props[names.first]); !ok || t.Before(first) {
			props[names.first] = stamp(t)
		}
	}
	if names.count != "" {
		props[names.count] = strconv.Itoa(atoi(contact.props[names.count]) + 1)
	}
	_, err := p.update(crmsync.HSContact, contact.id, props, emailSource)
	return err
}

// EmailEvents returns every recorded email event, oldest first (admin
// view).
func (p *Portal) EmailEvents() []EmailEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]EmailEvent, 0, len(p.emailEvents))
	for _, e := range p.emailEvents {
		out = append(out, *e)
	}
	slices.SortStableFunc(out, func(a, b EmailEvent) int { return cmp.Compare(a.Created, b.Created) })
	return out
}

func (p *Portal) emailEventRoutes() {
	m := p.mux
	m.HandleFunc("GET /email/public/v1/events", p.api(false, p.listEmailEvents))
	m.HandleFunc("GET /email/public/v1/events/{created}/{id}", p.api(false, p.getEmailEvent))
	m.HandleFunc("GET /email/public/v1/campaigns/{campaignId}", p.api(false, p.getEmailCampaign))

	m.HandleFunc("POST /_admin/email/campaigns", func(w http.ResponseWriter, r *http.Request) {
		var in EmailCampaign
		if readJSON(w, r, &in) {
			writeJSON(w, http.StatusCreated, p.CreateEmailCampaign(in.Name, in.Subject))
		}
	})
	m.HandleFunc("POST /_admin/email/events", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			EmailEventInput
			Created int64 `json:"created"` // ms; 0 = now
		}
		if readJSON(w, r, &in) {
			if in.Created > 0 {
				in.EmailEventInput.Created = time.UnixMilli(in.Created)
			}
			e, err := p.RecordEmailEvent(in.EmailEventInput)
			adminAnswer(w, http.StatusCreated, e, err)
		}
	})
}

// unparsable is HubSpot's answer to a path or query value of the wrong
// type on the legacy APIs: 400 {status, message, correlationId}.
func unparsable(w http.ResponseWriter, kind, name string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error",
		"message": "Unable to parse value for " + kind + " parameter: " + name, "correlationId": correlationID()})
}

// int64Query reads an optional integer query parameter; it answers 400
// and reports false when the value is not one.
func int64Query(w http.ResponseWriter, r *http.Request, name string) (int64, bool, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, false, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		unparsable(w, "query", name)
		return 0, false, false
	}
	return n, true, true
}

// listEmailEvents is GET /email/public/v1/events: the events matching
// appId, campaignId, recipient, eventType (case-sensitive; 400 for a type
// HubSpot does not have), startTimestamp and endTimestamp (ms, both
// inclusive) and excludeFilteredEvents, newest first (ties by id), limit
// 1..1000 (default 10), answered {events, hasMore, offset}. offset is an
// opaque token for the next page of the same query; it starts strictly
// after the last event returned, so events recorded meanwhile neither
// repeat nor shift the pages.
func (p *Portal) listEmailEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, r, 10, 1000)
	if !ok {
		return
	}
	var filters [4]int64
	var set [4]bool
	for i, name := range []string{"startTimestamp", "endTimestamp", "campaignId", "appId"} {
		if filters[i], set[i], ok = int64Query(w, r, name); !ok {
			return
		}
	}
	typ := q.Get("eventType")
	if typ != "" && !slices.Contains(EmailEventTypes, typ) {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid eventType "+strconv.Quote(typ)+"; one of "+strings.Join(EmailEventTypes, ", "), nil)
		return
	}
	var afterAt int64
	var afterID string
	if tok := q.Get("offset"); tok != "" {
		pos, ok := readPageToken(tok)
		at, id, found := strings.Cut(pos, "/")
		n, err := strconv.ParseInt(at, 10, 64)
		if !ok || !found || err != nil {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid offset: "+tok, nil)
			return
		}
		afterAt, afterID = n, id
	}
	recipient, excludeFiltered := q.Get("recipient"), q.Get("excludeFilteredEvents") == "true"
	p.mu.Lock()
	defer p.mu.Unlock()
	events := slices.Clone(p.emailEvents)
	slices.SortFunc(events, func(a, b *EmailEvent) int {
		return cmp.Or(cmp.Compare(b.Created, a.Created), strings.Compare(b.ID, a.ID))
	})
	page := []*EmailEvent{}
	more := false
	for _, e := range events {
		switch {
		case set[0] && e.Created < filters[0], set[1] && e.Created > filters[1],
			set[2] && e.EmailCampaignID != filters[2], set[3] && e.AppID != filters[3],
			typ != "" && e.Type != typ, recipient != "" && !strings.EqualFold(e.Recipient, recipient),
			excludeFiltered && e.FilteredEvent,
			afterID != "" && (e.Created > afterAt || e.Created == afterAt && e.ID >= afterID):
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, e)
	}
	body := map[string]any{"events": page, "hasMore": more}
	if n := len(page); n > 0 {
		body["offset"] = pageToken(strconv.FormatInt(page[n-1].Created, 10) + "/" + page[n-1].ID)
	}
	writeJSON(w, http.StatusOK, body)
}

// getEmailEvent is GET /email/public/v1/events/{created}/{id}: one event
// by its creation time (ms) and id; 400 when created is not a number, 404
// when there is no such event.
func (p *Portal) getEmailEvent(w http.ResponseWriter, r *http.Request) {
	created, err := strconv.ParseInt(r.PathValue("created"), 10, 64)
	if err != nil {
		unparsable(w, "path", "created")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.emailEvents {
		if e.Created == created && e.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, e)
			return
		}
	}
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "No email event "+r.PathValue("id")+" created at "+r.PathValue("created"), nil)
}

// getEmailCampaign is GET /email/public/v1/campaigns/{campaignId}: the
// campaign's id, appId, appName, name, subject, type, counters (events by
// type, lower case) and numIncluded; 404 for an unknown id.
func (p *Portal) getEmailCampaign(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("campaignId"), 10, 64)
	if err != nil {
		unparsable(w, "path", "campaignId")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.campaigns[id]
	if c == nil {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "No email campaign with id "+r.PathValue("campaignId"), nil)
		return
	}
	counters := map[string]int{}
	recipients := map[string]bool{}
	for _, e := range p.emailEvents {
		if e.EmailCampaignID == id {
			counters[strings.ToLower(e.Type)]++
			recipients[strings.ToLower(e.Recipient)] = true
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "appId": batchAppID, "appName": batchAppName,
		"contentId": c.ID + 1000, "name": c.Name, "subject": c.Subject, "type": "BATCH_EMAIL", "subType": "batch",
		"counters": counters, "numIncluded": len(recipients), "numQueued": 0, "processingState": "DONE",
		"lastUpdatedTime": p.now().UnixMilli()})
}
