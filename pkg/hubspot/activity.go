package hubspot

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.ActivityFeed = (*Client)(nil)

// Page sizes of the marketing APIs the activity feed polls.
const (
	// MaxSubmissionsLimit is the largest page of a form's submissions.
	MaxSubmissionsLimit = 50
	// MaxEmailEventsLimit is the largest page of the email events API.
	MaxEmailEventsLimit = 1000
	// formsPageLimit is the page size the feed lists forms with.
	formsPageLimit = 100
)

// feedEmailEventTypes are the marketing email event types EmailEvents
// returns: the ones crmsync logs as Salesforce Tasks.
var feedEmailEventTypes = []string{"SENT", "OPEN", "CLICK"}

// Form is a form as the v3 forms API lists it (what crmsync uses of it).
type Form struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	FormType  string    `json:"formType"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Archived  bool      `json:"archived"`
}

// feedFormTypes are the form types whose submissions the feed reads:
// HubSpot forms, non-HubSpot forms HubSpot captures, and pop-up (flow)
// forms — every lead-capture form; not blog comments.
var feedFormTypes = []string{"hubspot", "captured", "flow"}

// ListForms returns a page of the portal's live forms of the given types
// (nil: HubSpot's default, "hubspot" forms only; "all" for every type)
// and the next page's after ("" on the last page). limit <= 0 is
// HubSpot's default.
//
// GET /marketing/v3/forms/?after=&limit=&formTypes=
func (c *Client) ListForms(ctx context.Context, after string, limit int, formTypes []string) ([]Form, string, error) {
	q := url.Values{"formTypes": formTypes}
	if formTypes == nil {
		delete(q, "formTypes")
	}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var page struct {
		Results []Form      `json:"results"`
		Paging  *wirePaging `json:"paging"`
	}
	if err := c.do(ctx, call{op: "list forms", method: "GET", path: "marketing/v3/forms/", query: q, out: &page, idempotent: true}); err != nil {
		return nil, "", err
	}
	return page.Results, page.Paging.after(), nil
}

// FormSubmission is one submission of a form.
type FormSubmission struct {
	// ConversionID identifies the submission; HubSpot may omit it.
	ConversionID string
	SubmittedAt  time.Time
	Values       []FormValue
	PageURL      string
}

// FormValue is one submitted field.
type FormValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ListFormSubmissions returns a page of a form's submissions, newest first,
// and the next page's after ("" on the last page). limit is capped at
// MaxSubmissionsLimit; <= 0 is HubSpot's default (20).
//
// GET /form-integrations/v1/submissions/forms/{formGuid}?limit=&after=
func (c *Client) ListFormSubmissions(ctx context.Context, formID, after string, limit int) ([]FormSubmission, string, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, MaxSubmissionsLimit)))
	}
	if after != "" {
		q.Set("after", after)
	}
	var page struct {
		Results []struct {
			ConversionID string      `json:"conversionId"`
			SubmittedAt  int64       `json:"submittedAt"`
			Values       []FormValue `json:"values"`
			PageURL      string      `json:"pageUrl"`
		} `json:"results"`
		Paging *wirePaging `json:"paging"`
	}
	if err := c.do(ctx, call{op: "list submissions of form " + formID, method: "GET",
		path: "form-integrations/v1/submissions/forms/" + url.PathEscape(formID), query: q, out: &page, idempotent: true}); err != nil {
		return nil, "", err
	}
	out := make([]FormSubmission, 0, len(page.Results))
	for _, r := range page.Results {
		out = append(out, FormSubmission{ConversionID: r.ConversionID, SubmittedAt: time.UnixMilli(r.SubmittedAt).UTC(),
			Values: r.Values, PageURL: r.PageURL})
	}
	return out, page.Paging.after(), nil
}

// EmailEvent is a marketing email event as the email events API returns
// it (what crmsync uses of it).
type EmailEvent struct {
	ID              string
	Created         time.Time
	Type            string
	Recipient       string
	EmailCampaignID int64
	AppID           int64
	PortalID        int64
	// URL is a CLICK's link.
	URL string
	// FilteredEvent is true for an event HubSpot filtered out of
	// reporting (a bot's open or click).
	FilteredEvent bool
}

type wireEmailEvent struct {
	ID              string `json:"id"`
	Created         int64  `json:"created"`
	Type            string `json:"type"`
	Recipient       string `json:"recipient"`
	EmailCampaignID int64  `json:"emailCampaignId"`
	AppID           int64  `json:"appId"`
	PortalID        int64  `json:"portalId"`
	URL             string `json:"url"`
	FilteredEvent   bool   `json:"filteredEvent"`
}

func (w wireEmailEvent) event() EmailEvent {
	return EmailEvent{ID: w.ID, Created: time.UnixMilli(w.Created).UTC(), Type: w.Type, Recipient: w.Recipient,
		EmailCampaignID: w.EmailCampaignID, AppID: w.AppID, PortalID: w.PortalID, URL: w.URL, FilteredEvent: w.FilteredEvent}
}

// EmailEventsQuery selects email events; zero fields do not filter.
type EmailEventsQuery struct {
	// Start and End bound the events' creation time, both inclusive, at
	// millisecond resolution.
	Start, End time.Time
	// EventType is one type (case-sensitive: "OPEN"); the API takes one.
	EventType  string
	Recipient  string
	CampaignID int64
	// ExcludeFiltered leaves out events HubSpot filtered from reporting.
	ExcludeFiltered bool
	// Offset is the previous page's offset; Limit the page size (capped
	// at MaxEmailEventsLimit; <= 0 is HubSpot's default, 10).
	Offset string
	Limit  int
}

// EmailEventsPage is one page of email events, newest first. More says
// whether another page follows; Offset fetches it with the same query.
type EmailEventsPage struct {
	Events []EmailEvent
	More   bool
	Offset string
}

// ListEmailEvents returns a page of the email events matching q, newest
// first (HubSpot's order).
//
// GET /email/public/v1/events?startTimestamp=&endTimestamp=&eventType=&recipient=&campaignId=&excludeFilteredEvents=&offset=&limit=
func (c *Client) ListEmailEvents(ctx context.Context, q EmailEventsQuery) (*EmailEventsPage, error) {
	v := url.Values{}
	if !q.Start.IsZero() {
		v.Set("startTimestamp", strconv.FormatInt(q.Start.UnixMilli(), 10))
	}
	if !q.End.IsZero() {
		v.Set("endTimestamp", strconv.FormatInt(q.End.UnixMilli(), 10))
	}
	for k, s := range map[string]string{"eventType": q.EventType, "recipient": q.Recipient, "offset": q.Offset} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.CampaignID != 0 {
		v.Set("campaignId", strconv.FormatInt(q.CampaignID, 10))
	}
	if q.ExcludeFiltered {
		v.Set("excludeFilteredEvents", "true")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(min(q.Limit, MaxEmailEventsLimit)))
	}
	var page struct {
		Events  []wireEmailEvent `json:"events"`
		HasMore bool             `json:"hasMore"`
		Offset  string           `json:"offset"`
	}
	if err := c.do(ctx, call{op: "list email events", method: "GET", path: "email/public/v1/events", query: v, out: &page, idempotent: true}); err != nil {
		return nil, err
	}
	out := &EmailEventsPage{More: page.HasMore, Offset: page.Offset, Events: make([]EmailEvent, 0, len(page.Events))}
	for _, e := range page.Events {
		out.Events = append(out.Events, e.event())
	}
	return out, nil
}

// EmailCampaign is a marketing email's campaign.
type EmailCampaign struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Subject string `json:"subject"`
	AppID   int64  `json:"appId"`
	AppName string `json:"appName"`
}

// EmailCampaign reads an email campaign: the name and subject of the
// marketing email its events belong to. A campaign that does not exist
// is crmsync.ErrNotFound.
//
// GET /email/public/v1/campaigns/{campaignId}
func (c *Client) EmailCampaign(ctx context.Context, id int64) (*EmailCampaign, error) {
	var out EmailCampaign
	s := strconv.FormatInt(id, 10)
	if err := c.do(ctx, call{op: "get email campaign " + s, method: "GET", path: "email/public/v1/campaigns/" + s, out: &out, idempotent: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// FormSubmissions implements crmsync.ActivityFeed: it lists every live
// lead-capture form (feedFormTypes, paged), then each form's submissions newest first until one is
// older than since (the API has no time filter), and returns those at or
// after since oldest first. An event's ID is the form id, "/", and the
// conversion id — or, when HubSpot gives none, the submission's time in
// milliseconds, "/", and the submitted email. ContactEmail is the value
// named "email". limit cuts the oldest-first list (0: no cut) after the
// last event sharing the limit-th one's time, so a poll resumed at that
// time never stalls on a second full of submissions; every form is read
// back to since either way, because the newest come first.
func (c *Client) FormSubmissions(ctx context.Context, since time.Time, limit int) ([]crmsync.ActivityEvent, error) {
	since = since.Truncate(time.Millisecond)
	var out []crmsync.ActivityEvent
	after := ""
	for {
		forms, next, err := c.ListForms(ctx, after, formsPageLimit, feedFormTypes)
		if err != nil {
			return nil, err
		}
		for _, f := range forms {
			evs, err := c.formSubmissionsSince(ctx, f, since)
			if err != nil {
				return nil, err
			}
			out = append(out, evs...)
		}
		if next == "" {
			break
		}
		after = next
	}
	return oldestFirst(out, limit), nil
}

// formSubmissionsSince reads f's submissions back to since.
func (c *Client) formSubmissionsSince(ctx context.Context, f Form, since time.Time) ([]crmsync.ActivityEvent, error) {
	var out []crmsync.ActivityEvent
	after := ""
	for {
		subs, next, err := c.ListFormSubmissions(ctx, f.ID, after, MaxSubmissionsLimit)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			if s.SubmittedAt.Before(since) {
				return out, nil
			}
			out = append(out, submissionEvent(f, s))
		}
		if next == "" || len(subs) == 0 {
			return out, nil
		}
		after = next
	}
}

func submissionEvent(f Form, s FormSubmission) crmsync.ActivityEvent {
	values := make(map[string]string, len(s.Values))
	for _, v := range s.Values {
		values[v.Name] = v.Value
	}
	email := ""
	for k, v := range values {
		if strings.EqualFold(k, "email") {
			email = v
		}
	}
	key := s.ConversionID
	if key == "" {
		key = strconv.FormatInt(s.SubmittedAt.UnixMilli(), 10) + "/" + strings.ToLower(email)
	}
	return crmsync.ActivityEvent{Type: crmsync.HSFormSubmission, ID: f.ID + "/" + key, OccurredAt: s.SubmittedAt,
		ContactEmail: email, FormID: f.ID, FormName: f.Name, URL: s.PageURL, Values: values}
}

// oldestFirst sorts events by time (then id) and cuts them after limit
// (0: no cut), keeping every event that shares the last kept one's time.
func oldestFirst(evs []crmsync.ActivityEvent, limit int) []crmsync.ActivityEvent {
	slices.SortFunc(evs, func(a, b crmsync.ActivityEvent) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.ID, b.ID))
	})
	if limit <= 0 || len(evs) <= limit {
		return evs
	}
	n := limit
	for n < len(evs) && evs[n].OccurredAt.Equal(evs[limit-1].OccurredAt) {
		n++
	}
	return evs[:n]
}

// EmailEvents implements crmsync.ActivityFeed: the SENT, OPEN and CLICK
// events of marketing emails at or after since, oldest first, with the
// email's name from the campaigns API (cached per campaign in the
// client). Events HubSpot filtered from reporting (bots) are left out.
//
// The API takes one eventType per call and answers newest first, so the
// feed asks for every type and keeps the three (one series of pages,
// not three: a quiet portal's poll is one call), over a window that ends
// when the poll starts. With a limit, the oldest events must be
// found without reading everything newer: when [since, now] holds more
// than one full answer, the feed walks forward from since in windows
// sized by the event density it has seen, reading each window
// completely, until limit events are found. The result is cut as
// FormSubmissions' is.
func (c *Client) EmailEvents(ctx context.Context, since time.Time, limit int) ([]crmsync.ActivityEvent, error) {
	budget := limit
	if budget <= 0 {
		budget = math.MaxInt
	}
	// A zero since (no cursor yet) starts at the epoch, not year 1.
	lo, end := max(since.UnixMilli(), 0), c.now().UnixMilli()
	width := end - lo + 1 // first: everything since
	var out []crmsync.ActivityEvent
	for lo <= end && len(out) < budget {
		hi := end
		if width < end-lo+1 {
			hi = lo + width - 1
		}
		want := max(budget-len(out), MaxEmailEventsLimit)
		if hi == lo || budget == math.MaxInt {
			want = math.MaxInt // one millisecond, or everything: read it all
		}
		evs, complete, err := c.emailEventWindow(ctx, lo, hi, want)
		if err != nil {
			return nil, err
		}
		if !complete {
			// More than want in [lo, hi]: evs are the newest of them.
			// Shrink the window to what the density says holds want.
			span := hi - evs[len(evs)-1].Created.UnixMilli() + 1
			width = max(1, min(span*int64(budget-len(out))/int64(len(evs)), (hi-lo+1)/2))
			continue
		}
		for _, e := range evs {
			if slices.Contains(feedEmailEventTypes, e.Type) {
				ev, err := c.emailActivity(ctx, e)
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
			}
		}
		seen := hi - lo + 1
		lo = hi + 1
		if len(evs) == 0 {
			width = seen * 2
		} else {
			width = max(1, seen*int64(max(budget-len(out), 1))/int64(len(evs)))
		}
	}
	return oldestFirst(out, limit), nil
}

// emailEventWindow reads the events created in [lo, hi] (ms) page by
// page. complete is false when more than want events are there; evs are
// then the newest read so far.
func (c *Client) emailEventWindow(ctx context.Context, lo, hi int64, want int) (evs []EmailEvent, complete bool, err error) {
	q := EmailEventsQuery{Start: time.UnixMilli(lo), End: time.UnixMilli(hi), ExcludeFiltered: true, Limit: MaxEmailEventsLimit}
	for {
		page, err := c.ListEmailEvents(ctx, q)
		if err != nil {
			return nil, false, err
		}
		evs = append(evs, page.Events...)
		if !page.More || len(page.Events) == 0 {
			return evs, true, nil
		}
		if len(evs) >= want {
			return evs, false, nil
		}
		q.Offset = page.Offset
	}
}

// emailActivity is the activity event of a marketing email event.
func (c *Client) emailActivity(ctx context.Context, e EmailEvent) (crmsync.ActivityEvent, error) {
	name, err := c.emailName(ctx, e.EmailCampaignID)
	if err != nil {
		return crmsync.ActivityEvent{}, err
	}
	return crmsync.ActivityEvent{Type: crmsync.HSMarketingEmailEvent, ID: e.ID, OccurredAt: e.Created, ContactEmail: e.Recipient,
		EventType: e.Type, EmailCampaignID: strconv.FormatInt(e.EmailCampaignID, 10), EmailName: name, URL: e.URL}, nil
}

// emailName is the name of a campaign's email, read once per campaign
// per client; a campaign HubSpot no longer has is named "".
func (c *Client) emailName(ctx context.Context, id int64) (string, error) {
	c.mu.Lock()
	name, ok := c.campaignNames[id]
	c.mu.Unlock()
	if ok {
		return name, nil
	}
	camp, err := c.EmailCampaign(ctx, id)
	switch {
	case errors.Is(err, crmsync.ErrNotFound):
	case err != nil:
		return "", err
	default:
		name = camp.Name
	}
	c.mu.Lock()
	c.campaignNames[id] = name
	c.mu.Unlock()
	return name, nil
}
