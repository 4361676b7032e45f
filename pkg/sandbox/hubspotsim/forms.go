package hubspotsim

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Forms: the v3 forms API lists the portal's forms and the v1
// form-integrations API lists a form's submissions (newest first). A
// submission, made through the admin API as a visitor's would be, creates
// or updates the contact with its email and sets the conversion
// properties HubSpot keeps on it.

// FormField is one field of a form: a contact property (objectTypeId
// 0-1) and how it is shown.
type FormField struct {
	Name      string `json:"name"`
	Label     string `json:"label,omitempty"`
	FieldType string `json:"fieldType,omitempty"`
	Required  bool   `json:"required,omitempty"`
}

// Form is a form as the admin API shows it.
type Form struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Fields    []FormField `json:"fields"`
	CreatedAt time.Time   `json:"createdAt"`
}

// FormValue is one submitted field.
type FormValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Submission is a form submission: what a visitor sent (Values, PageURL,
// SubmittedAt, default now) and, once submitted, its ConversionID and the
// ContactID of the contact it created or updated ("" without an email).
type Submission struct {
	FormID       string      `json:"formId"`
	ConversionID string      `json:"conversionId"`
	SubmittedAt  time.Time   `json:"submittedAt"`
	Values       []FormValue `json:"values"`
	PageURL      string      `json:"pageUrl"`
	ContactID    string      `json:"contactId,omitempty"`
}

type form struct {
	Form
	seq      int64
	updated  time.Time
	archived bool
}

// formSource is how HubSpot reports a change a form submission made.
func formSource(formID string) source { return source{changeSource: "FORM", sourceID: formID} }

// newGUID is a random UUID (v4 layout) from the seeded source; p.mu held.
func (p *Portal) newGUID() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", p.rng.Uint32(), p.rng.Uint32()&0xffff,
		p.rng.Uint32()&0xfff, 0x8000|p.rng.Uint32()&0x3fff, p.rng.Uint64()&0xffffffffffff)
}

// defaultFormFields are the fields of a form created without any.
var defaultFormFields = []FormField{{Name: "email", Label: "Email", FieldType: "email", Required: true},
	{Name: "firstname", Label: "First name", FieldType: "single_line_text"},
	{Name: "lastname", Label: "Last name", FieldType: "single_line_text"}}

// CreateForm creates a form (a HubSpot form, formType "hubspot") with the
// fields (default: email, firstname, lastname), as a person would.
func (p *Portal) CreateForm(name string, fields ...FormField) (Form, error) {
	if strings.TrimSpace(name) == "" {
		return Form{}, &AdminError{Category: "VALIDATION_ERROR", Message: "a form needs a name"}
	}
	if len(fields) == 0 {
		fields = defaultFormFields
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.formSeq++
	f := &form{Form: Form{ID: p.newGUID(), Name: name, Fields: slices.Clone(fields), CreatedAt: now}, seq: p.formSeq, updated: now}
	for i := range f.Fields {
		f.Fields[i].Label = cmp.Or(f.Fields[i].Label, f.Fields[i].Name)
		f.Fields[i].FieldType = cmp.Or(f.Fields[i].FieldType, "single_line_text")
	}
	p.forms = append(p.forms, f)
	return f.Form, nil
}

// SubmitForm records a submission of a form as a visitor's would be: it
// gets a conversion id; the contact with the submitted email is created
// (or updated) with the submitted values as contact properties and
// HubSpot's conversion properties (recent_conversion_date/_event_name,
// first_conversion_date/_event_name, num_conversion_events,
// num_unique_conversion_events); webhooks report the changes with
// changeSource FORM and the form id as sourceId.
func (p *Portal) SubmitForm(formID string, s Submission) (Submission, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.form(formID)
	if f == nil {
		return Submission{}, &AdminError{Category: "OBJECT_NOT_FOUND", Message: "no form " + formID}
	}
	s.FormID, s.ConversionID = f.ID, p.newGUID()
	if s.SubmittedAt.IsZero() {
		s.SubmittedAt = p.now()
	}
	s.SubmittedAt = s.SubmittedAt.UTC().Truncate(time.Millisecond)
	s.Values = slices.Clone(s.Values)
	props := map[string]string{}
	for _, v := range s.Values {
		props[v.Name] = v.Value
	}
	if email := props["email"]; email != "" {
		id, err := p.convert(f, email, props, s.SubmittedAt)
		if err != nil {
			return Submission{}, adminErr(err)
		}
		s.ContactID = id
	}
	p.submissions[f.ID] = append(p.submissions[f.ID], &s)
	return s, nil
}

// convert creates or updates the contact with email from a submission of
// f at t; p.mu is held. It returns the contact's id.
func (p *Portal) convert(f *form, email string, props map[string]string, t time.Time) (string, *apiError) {
	src := formSource(f.ID)
	rec := p.find(crmsync.HSContact, email, "email")
	if rec == nil {
		created, err := p.create(crmsync.HSContact, props, src)
		if err != nil {
			return "", err
		}
		rec = created
	} else if _, err := p.update(crmsync.HSContact, rec.id, props, src); err != nil {
		return "", err
	}
	conv := map[string]string{"num_conversion_events": strconv.Itoa(atoi(rec.props["num_conversion_events"]) + 1)}
	forms := map[string]bool{f.ID: true}
	for id, subs := range p.submissions {
		if slices.ContainsFunc(subs, func(s *Submission) bool { return s.ContactID == rec.id }) {
			forms[id] = true
		}
	}
	conv["num_unique_conversion_events"] = strconv.Itoa(len(forms))
	if last, ok := parseStamp(rec.props["recent_conversion_date"]); !ok || !t.Before(last) {
		conv["recent_conversion_date"], conv["recent_conversion_event_name"] = stamp(t), f.Name
	}
	if first, ok := parseStamp(rec.props["first_conversion_date"]); !ok || t.Before(first) {
		conv["first_conversion_date"], conv["first_conversion_event_name"] = stamp(t), f.Name
	}
	if _, err := p.update(crmsync.HSContact, rec.id, conv, src); err != nil {
		return "", err
	}
	return rec.id, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func parseStamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// form returns a live form by id; p.mu is held.
func (p *Portal) form(id string) *form {
	for _, f := range p.forms {
		if f.ID == id && !f.archived {
			return f
		}
	}
	return nil
}

// Submissions returns a form's submissions, newest first (admin view).
func (p *Portal) Submissions(formID string) []Submission {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Submission, 0, len(p.submissions[formID]))
	for _, s := range p.sortedSubmissions(formID) {
		out = append(out, *s)
	}
	return out
}

// sortedSubmissions are a form's submissions newest first, ties by
// conversion id descending; p.mu is held.
func (p *Portal) sortedSubmissions(formID string) []*Submission {
	subs := slices.Clone(p.submissions[formID])
	slices.SortFunc(subs, func(a, b *Submission) int {
		return cmp.Or(b.SubmittedAt.Compare(a.SubmittedAt), strings.Compare(b.ConversionID, a.ConversionID))
	})
	return subs
}

// wireForm is a form in the v3 forms API's shape (HubSpotFormDefinition).
func wireForm(f *form) map[string]any {
	fields := make([]map[string]any, 0, len(f.Fields))
	for _, fl := range f.Fields {
		field := map[string]any{"objectTypeId": "0-1", "name": fl.Name, "label": fl.Label, "required": fl.Required,
			"hidden": false, "fieldType": fl.FieldType, "dependentFields": []any{}}
		if fl.FieldType == "email" {
			field["validation"] = map[string]any{"blockedEmailDomains": []string{}, "useDefaultBlockList": false}
		}
		fields = append(fields, field)
	}
	w := map[string]any{
		"id": f.ID, "name": f.Name, "formType": "hubspot", "createdAt": stamp(f.CreatedAt), "updatedAt": stamp(f.updated),
		"archived":    f.archived,
		"fieldGroups": []any{map[string]any{"groupType": "default_group", "richTextType": "text", "fields": fields}},
		"configuration": map[string]any{"language": "en", "cloneable": true, "editable": true, "archivable": true,
			"recaptchaEnabled": false, "notifyContactOwner": false, "notifyRecipients": []string{},
			"createNewContactForNewEmail": false, "prePopulateKnownValues": true, "allowLinkToResetKnownValues": false,
			"lifecycleStages": []any{}, "postSubmitAction": map[string]string{"type": "thank_you", "value": ""}},
		"displayOptions": map[string]any{"renderRawHtml": false, "theme": "default_style", "submitButtonText": "Submit",
			"style": map[string]any{}, "cssClass": ""},
		"legalConsentOptions": map[string]string{"type": "none"},
	}
	return w
}

func (p *Portal) formRoutes() {
	m := p.mux
	m.HandleFunc("GET /marketing/v3/forms", p.api(false, p.listForms))
	m.HandleFunc("GET /marketing/v3/forms/{$}", p.api(false, p.listForms))
	m.HandleFunc("GET /marketing/v3/forms/{formId}", p.api(false, p.getForm))
	m.HandleFunc("GET /form-integrations/v1/submissions/forms/{formGuid}", p.api(false, p.listSubmissions))

	m.HandleFunc("POST /_admin/forms", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name   string      `json:"name"`
			Fields []FormField `json:"fields"`
		}
		if readJSON(w, r, &in) {
			f, err := p.CreateForm(in.Name, in.Fields...)
			adminAnswer(w, http.StatusCreated, f, err)
		}
	})
	m.HandleFunc("POST /_admin/forms/{formGuid}/submissions", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Values      []FormValue `json:"values"`
			PageURL     string      `json:"pageUrl"`
			SubmittedAt int64       `json:"submittedAt"` // ms; 0 = now
		}
		if readJSON(w, r, &in) {
			s := Submission{Values: in.Values, PageURL: in.PageURL}
			if in.SubmittedAt > 0 {
				s.SubmittedAt = time.UnixMilli(in.SubmittedAt)
			}
			out, err := p.SubmitForm(r.PathValue("formGuid"), s)
			adminAnswer(w, http.StatusCreated, out, err)
		}
	})
}

// pageToken and readPageToken are the opaque after/offset tokens of the
// marketing APIs: base64 of a position the next page starts strictly
// after, so items added while a client pages do not repeat.
func pageToken(pos string) string { return base64.RawURLEncoding.EncodeToString([]byte(pos)) }

func readPageToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return string(b), err == nil
}

// queryLimit reads the limit query parameter: def when absent, 400
// VALIDATION_ERROR outside 1..max.
func queryLimit(w http.ResponseWriter, r *http.Request, def, maxLimit int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("limit must be between 1 and %d; got %q", maxLimit, s), nil)
		return 0, false
	}
	return n, true
}

// formTypes are the v3 forms API's form types (formTypes query values).
var formTypes = []string{"hubspot", "captured", "flow", "blog_comment", "all"}

// maxFormsLimit caps a page of the forms list (HubSpot documents none).
const maxFormsLimit = 500

// listForms is GET /marketing/v3/forms/: forms in creation order, limit
// (default 20) per page, paging.next.after; archived=true lists archived
// ones. Every sim form is a "hubspot" form, listed when formTypes is
// absent (HubSpot's default) or names hubspot or all; a type HubSpot does
// not have is 400.
func (p *Portal) listForms(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, r, 20, maxFormsLimit)
	if !ok {
		return
	}
	var after int64
	if tok := q.Get("after"); tok != "" {
		pos, ok := readPageToken(tok)
		n, err := strconv.ParseInt(pos, 10, 64)
		if !ok || err != nil {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid after token: "+tok, nil)
			return
		}
		after = n
	}
	types := queryList(q, "formTypes")
	for _, ty := range types {
		if !slices.Contains(formTypes, ty) {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "formTypes must be among "+strings.Join(formTypes, ", ")+"; got "+strconv.Quote(ty), nil)
			return
		}
	}
	listed := types == nil || slices.Contains(types, "hubspot") || slices.Contains(types, "all")
	archived := q.Get("archived") == "true"
	p.mu.Lock()
	defer p.mu.Unlock()
	results := []map[string]any{}
	var more bool
	var last int64
	for _, f := range p.forms {
		if !listed || f.archived != archived || f.seq <= after {
			continue
		}
		if len(results) == limit {
			more = true
			break
		}
		results = append(results, wireForm(f))
		last = f.seq
	}
	body := map[string]any{"results": results}
	if more {
		next := pageToken(strconv.FormatInt(last, 10))
		body["paging"] = map[string]any{"next": map[string]string{"after": next, "link": "?after=" + next}}
	}
	writeJSON(w, http.StatusOK, body)
}

func formNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Form "+id+" does not exist", map[string][]string{"formId": {id}})
}

// getForm is GET /marketing/v3/forms/{formId}.
func (p *Portal) getForm(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.form(r.PathValue("formId"))
	if f == nil {
		formNotFound(w, r.PathValue("formId"))
		return
	}
	writeJSON(w, http.StatusOK, wireForm(f))
}

// listSubmissions is GET /form-integrations/v1/submissions/forms/
// {formGuid}: the form's submissions newest first, limit 1..50 (default
// 20), paging.next.after while more remain; each {conversionId,
// submittedAt (ms), values [{name, value}], pageUrl}. An unknown form is
// 404.
func (p *Portal) listSubmissions(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryLimit(w, r, 20, 50)
	if !ok {
		return
	}
	var afterAt int64
	var afterID string
	if tok := r.URL.Query().Get("after"); tok != "" {
		pos, ok := readPageToken(tok)
		at, id, found := strings.Cut(pos, "/")
		n, err := strconv.ParseInt(at, 10, 64)
		if !ok || !found || err != nil {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid after token: "+tok, nil)
			return
		}
		afterAt, afterID = n, id
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.form(r.PathValue("formGuid"))
	if f == nil {
		formNotFound(w, r.PathValue("formGuid"))
		return
	}
	results := []map[string]any{}
	var more bool
	var last *Submission
	for _, s := range p.sortedSubmissions(f.ID) {
		ms := s.SubmittedAt.UnixMilli()
		if afterID != "" && (ms > afterAt || ms == afterAt && s.ConversionID >= afterID) {
			continue
		}
		if len(results) == limit {
			more = true
			break
		}
		values := make([]map[string]string, 0, len(s.Values))
		for _, v := range s.Values {
			values = append(values, map[string]string{"name": v.Name, "value": v.Value})
		}
		results = append(results, map[string]any{"conversionId": s.ConversionID, "submittedAt": ms, "values": values, "pageUrl": s.PageURL})
		last = s
	}
	body := map[string]any{"results": results}
	if more {
		next := pageToken(strconv.FormatInt(last.SubmittedAt.UnixMilli(), 10) + "/" + last.ConversionID)
		body["paging"] = map[string]any{"next": map[string]string{"after": next, "link": "?after=" + next}}
	}
	writeJSON(w, http.StatusOK, body)
}
