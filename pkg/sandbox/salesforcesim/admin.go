package salesforcesim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// RuleError is an org rule refusing an admin write: the code and message
// the REST API would answer with.
type RuleError struct {
	Code    string
	Message string
	Fields  []string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("salesforcesim: %s: %s", e.Code, e.Message)
}

func ruleError(e *apiError) error {
	if e == nil {
		return nil
	}
	return &RuleError{Code: e.Code, Message: e.Message, Fields: e.Fields}
}

// CreateAs creates a record as userID ("" = the integration user), the
// way a person in the UI would: every org rule applies (validation,
// duplicates, sharing of references), faults do not, and outbound
// messages fire. It returns the new id.
func (o *Org) CreateAs(userID, object string, fields map[string]any) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.schema[object]
	if !ok {
		return "", &RuleError{Code: "INVALID_TYPE", Message: "no such object " + object}
	}
	r, e := o.save(obj, nil, fields, writeOpts{user: o.userOr(userID)})
	if e != nil {
		return "", ruleError(e)
	}
	return r.id(), nil
}

// UpdateAs updates a record as userID, as CreateAs.
func (o *Org) UpdateAs(userID, id string, fields map[string]any) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.lookup(id)
	if !ok {
		return &RuleError{Code: salesforce.CodeNotFound, Message: "no record " + id}
	}
	_, e := o.save(r.obj, r, fields, writeOpts{user: o.userOr(userID)})
	return ruleError(e)
}

// DeleteAs deletes a record as userID.
func (o *Org) DeleteAs(userID, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return ruleError(o.remove(id, o.userOr(userID), false))
}

// Merge merges losers into master as userID ("" = the integration user)
// would in the UI: the losers are deleted with MasterRecordId set to the
// master, whose SystemModstamp moves (an outbound message fires for it
// like for any edit). Only Lead, Contact and Account merge.
func (o *Org) Merge(userID, masterID string, loserIDs ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	user := o.userOr(userID)
	master, ok := o.lookup(masterID)
	if !ok || master.deleted {
		return &RuleError{Code: salesforce.CodeEntityIsDeleted, Message: "master record not found"}
	}
	if _, ok := master.obj.Field("MasterRecordId"); !ok {
		return &RuleError{Code: "INVALID_TYPE", Message: master.obj.Name + " records cannot be merged"}
	}
	for _, id := range loserIDs {
		l, ok := o.lookup(id)
		if !ok || l.obj != master.obj || l.id() == master.id() {
			return &RuleError{Code: "INVALID_ID_FIELD", Message: "cannot merge " + id + " into " + masterID}
		}
		if err := o.remove(l.id(), user, false); err != nil {
			return ruleError(err)
		}
		l.fields["MasterRecordId"] = master.id()
	}
	// The master is touched (SystemModstamp moves: the sweep sees it); no
	// field changed, so no outbound message fires for it.
	fields := make(map[string]any, len(master.fields))
	for k, v := range master.fields {
		fields[k] = v
	}
	o.commit(master.obj, master, fields, nil, user)
	return nil
}

// Get returns every field of a record, whoever may see it; ok is false
// for unknown ids. Deleted records are returned with IsDeleted true.
func (o *Org) Get(id string) (map[string]any, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.lookup(id)
	if !ok {
		return nil, false
	}
	out := map[string]any{}
	for k, v := range r.fields {
		out[k] = v
	}
	return out, true
}

// Records returns every live record of an object, by id.
func (o *Org) Records(object string) []map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []map[string]any
	for _, id := range sortedKeys(o.records) {
		r := o.records[id]
		if r.obj.Name == object && !r.deleted {
			m := map[string]any{}
			for k, v := range r.fields {
				m[k] = v
			}
			out = append(out, m)
		}
	}
	return out
}

func (o *Org) userOr(id string) string {
	if id == "" {
		return o.IntegrationUserID
	}
	return salesforce.ID18(id)
}

// ConvertOptions shape a lead conversion.
type ConvertOptions struct {
	// AccountID attaches the contact to an existing account instead of
	// creating one from the lead's Company.
	AccountID string
	// CreateOpportunity also creates an opportunity (Prospecting, closing
	// in 30 days) with the contact as primary contact role.
	CreateOpportunity bool
	OpportunityName   string
}

// ConvertResult names the records a conversion made or used.
type ConvertResult struct {
	AccountID, ContactID, OpportunityID string
}

// ConvertLead converts a lead as userID: an account (unless given), a
// contact with the lead's name, email, phone, title and country/state,
// optionally an opportunity; the lead becomes IsConverted with Status
// "Closed - Converted" and the Converted…Id fields, and can no longer be
// edited or referenced; its tasks move to the contact (and to the
// opportunity when they were related to nothing); its campaign
// memberships stay as they are. Each save fires its outbound messages.
func (o *Org) ConvertLead(userID, leadID string, opts ConvertOptions) (ConvertResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	user := o.userOr(userID)
	lead, ok := o.lookup(leadID)
	if !ok || lead.obj.Name != "Lead" || lead.deleted {
		return ConvertResult{}, &RuleError{Code: salesforce.CodeNotFound, Message: "no lead " + leadID}
	}
	if lead.fields["IsConverted"] == true {
		return ConvertResult{}, &RuleError{Code: codeConvertedLead, Message: "lead is already converted"}
	}
	if o.access(user, lead) != ReadWrite {
		return ConvertResult{}, &RuleError{Code: salesforce.CodeInsufficientAccess, Message: "insufficient access rights on object id"}
	}
	var res ConvertResult
	opt := writeOpts{user: user, allowSave: true}
	if opts.AccountID != "" {
		a, e := o.visibleRecord("Account", opts.AccountID, user)
		if e != nil {
			return ConvertResult{}, ruleError(e)
		}
		res.AccountID = a.id()
	} else {
		a, e := o.save(o.schema["Account"], nil, map[string]any{"Name": lead.fields["Company"],
			"BillingCountryCode": lead.fields["CountryCode"], "BillingStateCode": lead.fields["StateCode"]}, opt)
		if e != nil {
			return ConvertResult{}, ruleError(e)
		}
		res.AccountID = a.id()
	}
	c, e := o.save(o.schema["Contact"], nil, map[string]any{
		"FirstName": lead.fields["FirstName"], "LastName": lead.fields["LastName"], "Email": lead.fields["Email"],
		"Phone": lead.fields["Phone"], "Title": lead.fields["Title"], "AccountId": res.AccountID,
		"MailingCountryCode": lead.fields["CountryCode"], "MailingStateCode": lead.fields["StateCode"],
	}, opt)
	if e != nil {
		return ConvertResult{}, ruleError(e)
	}
	res.ContactID = c.id()
	if opts.CreateOpportunity {
		name := opts.OpportunityName
		if name == "" {
			name = fmt.Sprint(lead.fields["Company"]) + "-"
		}
		opp, e := o.save(o.schema["Opportunity"], nil, map[string]any{"Name": name, "StageName": "Prospecting",
			"CloseDate": o.cfg.Now().AddDate(0, 0, 30).Format("2006-01-02"), "AccountId": res.AccountID}, opt)
		if e != nil {
			return ConvertResult{}, ruleError(e)
		}
		res.OpportunityID = opp.id()
		if _, e := o.save(o.schema["OpportunityContactRole"], nil, map[string]any{"OpportunityId": res.OpportunityID,
			"ContactId": res.ContactID, "IsPrimary": true, "Role": "Decision Maker"}, opt); e != nil {
			return ConvertResult{}, ruleError(e)
		}
	}
	// The conversion itself bypasses the lead's validation rules and
	// restricted Status, as Salesforce's does.
	rec := map[string]any{}
	for k, v := range lead.fields {
		rec[k] = v
	}
	rec["IsConverted"], rec["Status"] = true, "Closed - Converted"
	rec["ConvertedAccountId"], rec["ConvertedContactId"] = res.AccountID, res.ContactID
	if res.OpportunityID != "" {
		rec["ConvertedOpportunityId"] = res.OpportunityID
	}
	o.commit(lead.obj, lead, rec, []string{"Status", "IsConverted"}, user)
	o.repointTasks(lead.id(), res.ContactID, res.OpportunityID, user)
	return res, nil
}

// serveAdmin serves the admin API (not counted against the API limit, no
// faults, no session needed; "as" names the acting user):
//
//	GET    /admin/sobjects/{type}              every live record
//	GET    /admin/sobjects/{type}/{id}         one record, whoever may see it
//	POST   /admin/sobjects/{type}?as={user}    create as a user
//	PATCH  /admin/sobjects/{type}/{id}?as=…    update as a user
//	DELETE /admin/sobjects/{type}/{id}?as=…    delete as a user
//	POST   /admin/leads/{id}/convert?as=…      convert ({"createOpportunity": true})
//	POST   /admin/sessions?as=…                an access token for a user
//	DELETE /admin/sessions                     expire every session (ExpireSessions)
//	POST   /admin/outbound/deliver             deliver due outbound messages
//	GET    /admin/outbound                     pending count and delivery log
//	GET    /admin/usage                        API calls in 24 h and the limit
func (o *Org) serveAdmin(w http.ResponseWriter, r *http.Request) {
	s := splitPath(strings.TrimPrefix(r.URL.EscapedPath(), "/admin/"))
	as := r.URL.Query().Get("as")
	bad := func(err error) {
		status := http.StatusBadRequest
		if re, ok := err.(*RuleError); ok {
			if re.Code == salesforce.CodeNotFound {
				status = http.StatusNotFound
			}
			writeJSON(w, status, []any{map[string]any{"errorCode": re.Code, "message": re.Message, "fields": re.Fields}})
			return
		}
		writeJSON(w, status, []any{map[string]any{"errorCode": "INVALID_REQUEST", "message": err.Error()}})
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		if err := decodeJSON(r.Body, &body); err != nil && err.Error() != "EOF" {
			bad(err)
			return
		}
	}
	switch {
	case len(s) == 2 && s[0] == "sobjects" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, o.Records(s[1]))
	case len(s) == 3 && s[0] == "sobjects" && r.Method == http.MethodGet:
		rec, ok := o.Get(s[2])
		if !ok {
			bad(&RuleError{Code: salesforce.CodeNotFound, Message: "no record " + s[2]})
			return
		}
		writeJSON(w, http.StatusOK, rec)
	case len(s) == 2 && s[0] == "sobjects" && r.Method == http.MethodPost:
		id, err := o.CreateAs(as, s[1], body)
		if err != nil {
			bad(err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
	case len(s) == 3 && s[0] == "sobjects" && r.Method == http.MethodPatch:
		if err := o.UpdateAs(as, s[2], body); err != nil {
			bad(err)
			return
		}
		writeJSON(w, http.StatusNoContent, nil)
	case len(s) == 3 && s[0] == "sobjects" && r.Method == http.MethodDelete:
		if err := o.DeleteAs(as, s[2]); err != nil {
			bad(err)
			return
		}
		writeJSON(w, http.StatusNoContent, nil)
	case len(s) == 3 && s[0] == "leads" && s[2] == "convert" && r.Method == http.MethodPost:
		var opts ConvertOptions
		b, _ := json.Marshal(body)
		_ = json.Unmarshal(b, &opts)
		res, err := o.ConvertLead(as, s[1], opts)
		if err != nil {
			bad(err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"accountId": res.AccountID, "contactId": res.ContactID, "opportunityId": res.OpportunityID})
	case len(s) == 1 && s[0] == "sessions" && r.Method == http.MethodPost:
		writeJSON(w, http.StatusOK, map[string]any{"access_token": o.Session(as)})
	case len(s) == 1 && s[0] == "sessions" && r.Method == http.MethodDelete:
		o.ExpireSessions()
		writeJSON(w, http.StatusNoContent, nil)
	case len(s) == 2 && s[0] == "outbound" && s[1] == "deliver" && r.Method == http.MethodPost:
		n, err := o.DeliverOutbound(context.WithoutCancel(r.Context()))
		if err != nil {
			bad(err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": n})
	case len(s) == 1 && s[0] == "outbound" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"pending": o.PendingOutbound(), "deliveries": o.Deliveries(), "expired": o.ExpiredOutbound()})
	case len(s) == 1 && s[0] == "usage" && r.Method == http.MethodGet:
		used, limit := o.APIUsage()
		writeJSON(w, http.StatusOK, map[string]any{"used": used, "limit": limit})
	default:
		writeJSON(w, http.StatusNotFound, []any{map[string]any{"errorCode": salesforce.CodeNotFound, "message": "no such admin endpoint"}})
	}
}
