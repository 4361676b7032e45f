package hubspotsim

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

type record struct {
	id         string
	props      map[string]string
	created    time.Time
	updated    time.Time
	archived   bool
	archivedAt time.Time
	// tie orders records that sort equal in a search: random, fixed per
	// record, so a client cannot rely on id order among ties.
	tie uint64
	// nums caches numeric values of properties for search; stamp clears it.
	nums map[string]numVal
}

type numVal struct {
	f  float64
	ok bool
}

// numeric is numeric(rec.props[prop]), cached.
func (rec *record) numeric(prop string) (float64, bool) {
	if v, ok := rec.nums[prop]; ok {
		return v.f, v.ok
	}
	f, ok := numeric(rec.props[prop])
	if rec.nums == nil {
		rec.nums = map[string]numVal{}
	}
	rec.nums[prop] = numVal{f, ok}
	return f, ok
}

// source is who made a change, as webhooks report it.
type source struct {
	changeSource string
	sourceID     string
}

// defaultPipelineStages are the stage ids of HubSpot's default sales
// pipeline ("default"), in order — the only pipeline the sim has. A deal's
// dealstage must be one of its pipeline's stages, as in HubSpot.
var defaultPipelineStages = []string{"appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
	"decisionmakerboughtin", "contractsent", "closedwon", "closedlost"}

// lifecycleOrder is HubSpot's default lifecycle stages, in order.
var lifecycleOrder = []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
	"opportunity", "customer", "evangelist", "other"}

func lifecycleRank(v string) int {
	for i, s := range lifecycleOrder {
		if s == v {
			return i
		}
	}
	return -1
}

// readOnly properties are maintained by the portal.
var readOnly = map[string]bool{"hs_object_id": true, "createdate": true, "lastmodifieddate": true,
	"hs_lastmodifieddate": true, "hs_createdate": true}

func objectTypeOf(seg string) (crmsync.ObjectType, bool) {
	for _, o := range []crmsync.ObjectType{crmsync.HSContact, crmsync.HSCompany, crmsync.HSDeal, crmsync.HSCall,
		crmsync.HSMeeting, crmsync.HSNote, crmsync.HSTask, crmsync.HSSalesEmail} {
		if seg == hubspot.ObjectPath(o) || seg == string(o) || seg == hubspot.ObjectTypeID(o) {
			return o, true
		}
	}
	return "", false
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// now is the portal clock at millisecond resolution (HubSpot's).
func (p *Portal) now() time.Time { return p.cfg.Now().UTC().Truncate(time.Millisecond) }

func (p *Portal) table(o crmsync.ObjectType) map[string]*record {
	t := p.objects[o]
	if t == nil {
		t = map[string]*record{}
		p.objects[o] = t
	}
	return t
}

// engagement reports whether o is an activity (engagement) object type.
func engagement(o crmsync.ObjectType) bool {
	switch o {
	case crmsync.HSCall, crmsync.HSMeeting, crmsync.HSNote, crmsync.HSTask, crmsync.HSSalesEmail:
		return true
	}
	return false
}

// requiredOnCreate are the properties HubSpot requires when an object of
// type o is created: hs_timestamp on every engagement (the activity's
// time on the timeline; the UI fills it, the API does not).
func requiredOnCreate(o crmsync.ObjectType) []string {
	if engagement(o) {
		return []string{"hs_timestamp"}
	}
	return nil
}

// missingRequired is HubSpot's answer to a create without a required
// property: 400 VALIDATION_ERROR "Error creating CALL. Some required
// properties were not set." with the names in context.properties.
func missingRequired(o crmsync.ObjectType, props map[string]string) *apiError {
	var missing []string
	for _, k := range requiredOnCreate(o) {
		if props[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return newAPIError("VALIDATION_ERROR", "Error creating "+strings.ToUpper(string(o))+". Some required properties were not set.",
		map[string][]string{"properties": missing})
}

// datetimeProperties are the datetime properties the sim normalises:
// written as epoch milliseconds or ISO 8601, read back as ISO 8601 UTC
// with milliseconds, as HubSpot returns datetime values.
var datetimeProperties = map[string]bool{"hs_timestamp": true}

// datetimeValue parses a datetime property value as HubSpot accepts it.
func datetimeValue(v string) (string, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return stamp(time.UnixMilli(ms)), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return stamp(t), true
		}
	}
	return "", false
}

// validate checks properties to be written to rec (nil for a create) of
// type o, and normalises datetime values in props. p.mu is held.
func (p *Portal) validate(o crmsync.ObjectType, rec *record, props map[string]string) *apiError {
	var details []errorDetail
	if rec == nil {
		if err := missingRequired(o, props); err != nil {
			return err
		}
	}
	for k, v := range props {
		switch {
		case datetimeProperties[k] && v != "":
			if norm, ok := datetimeValue(v); ok {
				props[k] = norm
			} else {
				details = append(details, errorDetail{Message: fmt.Sprintf("%s was not a valid long.", v), Code: "INVALID_LONG",
					Context: map[string][]string{"propertyName": {k}}})
			}
		case readOnly[k]:
			details = append(details, errorDetail{Message: fmt.Sprintf("%s is a read only property; its value cannot be set.", k), Code: "READ_ONLY_VALUE",
				Context: map[string][]string{"propertyName": {k}}})
		case k == "email" && v != "":
			if _, err := mail.ParseAddress(v); err != nil || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
				details = append(details, errorDetail{Message: fmt.Sprintf("Email address %s is invalid", v), Code: "INVALID_EMAIL",
					Context: map[string][]string{"propertyName": {k}}})
			}
		case o == crmsync.HSDeal && k == "dealstage" && v != "" && !slices.Contains(defaultPipelineStages, v):
			details = append(details, errorDetail{Message: fmt.Sprintf("%s was not one of the allowed options: [%s]", v, strings.Join(defaultPipelineStages, ", ")),
				Code: "INVALID_OPTION", Context: map[string][]string{"propertyName": {k}}})
		case o == crmsync.HSDeal && k == "pipeline" && v != "" && v != "default":
			details = append(details, errorDetail{Message: fmt.Sprintf("%s was not one of the allowed options: [default]", v),
				Code: "INVALID_OPTION", Context: map[string][]string{"propertyName": {k}}})
		case k == "lifecyclestage" && v != "":
			if lifecycleRank(v) < 0 {
				details = append(details, errorDetail{Message: fmt.Sprintf("%s was not one of the allowed options", v), Code: "INVALID_OPTION",
					Context: map[string][]string{"propertyName": {k}}})
			} else if rec != nil && rec.props[k] != "" && lifecycleRank(v) < lifecycleRank(rec.props[k]) {
				details = append(details, errorDetail{Message: fmt.Sprintf("lifecycle stage cannot move backwards from %s to %s; clear it first", rec.props[k], v),
					Code: "INVALID_OPTION", Context: map[string][]string{"propertyName": {k}}})
			}
		}
	}
	if len(details) > 0 {
		msgs := make([]string, len(details))
		for i, d := range details {
			msgs[i] = d.Message
		}
		e := newAPIError("VALIDATION_ERROR", "Property values were not valid: "+strings.Join(msgs, "; "), nil)
		e.Errors = details
		return e
	}
	if o == crmsync.HSContact {
		if email, ok := props["email"]; ok && email != "" {
			for id, other := range p.table(o) {
				if !other.archived && (rec == nil || id != rec.id) && strings.EqualFold(other.props["email"], email) {
					return newAPIError("CONFLICT", "Contact already exists. Existing ID: "+id, nil)
				}
			}
		}
	}
	return nil
}

// create stores a new record; p.mu is held.
func (p *Portal) create(o crmsync.ObjectType, props map[string]string, src source) (*record, *apiError) {
	props = maps.Clone(props) // validate normalises values
	if err := p.validate(o, nil, props); err != nil {
		return nil, err
	}
	p.nextID += 1 + int64(p.rng.IntN(3))
	now := p.now()
	rec := &record{id: strconv.FormatInt(p.nextID, 10), props: map[string]string{}, created: now, updated: now, tie: p.rng.Uint64()}
	for k, v := range props {
		if v != "" {
			rec.props[k] = v
		}
	}
	p.stamp(o, rec)
	p.table(o)[rec.id] = rec
	p.emit(o, "creation", rec.id, "", src, nil)
	for k, v := range props {
		if v != "" {
			p.emit(o, "propertyChange", rec.id, k, src, &v)
		}
	}
	return rec, nil
}

// update writes props ("" clears); p.mu is held.
func (p *Portal) update(o crmsync.ObjectType, id string, props map[string]string, src source) (*record, *apiError) {
	rec := p.table(o)[id]
	if rec == nil || rec.archived {
		return nil, newAPIError("OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", map[string][]string{"id": {id}})
	}
	props = maps.Clone(props) // validate normalises values
	if err := p.validate(o, rec, props); err != nil {
		return nil, err
	}
	var changed []string
	for k, v := range props {
		if rec.props[k] == v {
			continue
		}
		if v == "" {
			delete(rec.props, k)
		} else {
			rec.props[k] = v
		}
		changed = append(changed, k)
	}
	if len(changed) == 0 {
		return rec, nil
	}
	rec.updated = p.now()
	p.stamp(o, rec)
	for _, k := range changed {
		v := props[k]
		p.emit(o, "propertyChange", rec.id, k, src, &v)
	}
	return rec, nil
}

// archive deletes (archives) a record; p.mu is held.
func (p *Portal) archive(o crmsync.ObjectType, id string, src source) *apiError {
	rec := p.table(o)[id]
	if rec == nil || rec.archived {
		return newAPIError("OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", map[string][]string{"id": {id}})
	}
	rec.archived, rec.archivedAt = true, p.now()
	p.emit(o, "deletion", id, "", src, nil)
	return nil
}

// stamp maintains the portal's own properties.
func (p *Portal) stamp(o crmsync.ObjectType, rec *record) {
	rec.nums = nil
	rec.props["hs_object_id"] = rec.id
	rec.props[hubspot.LastModifiedProperty(o)] = stamp(rec.updated)
	if o == crmsync.HSContact {
		rec.props["createdate"] = stamp(rec.created)
	} else {
		rec.props["hs_createdate"] = stamp(rec.created)
	}
}

// find returns a live record by id or by a unique property value.
func (p *Portal) find(o crmsync.ObjectType, id, idProperty string) *record {
	if idProperty == "" || idProperty == "hs_object_id" {
		if rec := p.table(o)[id]; rec != nil && !rec.archived {
			return rec
		}
		return nil
	}
	for _, rec := range p.table(o) {
		if !rec.archived && strings.EqualFold(rec.props[idProperty], id) {
			return rec
		}
	}
	return nil
}

// wire is a record in HubSpot's shape, with the requested properties
// (all when props is nil), plus the ones HubSpot always returns.
func wire(o crmsync.ObjectType, rec *record, props []string) map[string]any {
	out := map[string]any{}
	if props == nil {
		for k, v := range rec.props {
			out[k] = v
		}
	} else {
		for _, k := range append(props, "hs_object_id", "createdate", hubspot.LastModifiedProperty(o)) {
			if v, ok := rec.props[k]; ok {
				out[k] = v
			} else {
				out[k] = nil
			}
		}
	}
	w := map[string]any{"id": rec.id, "properties": out, "createdAt": stamp(rec.created),
		"updatedAt": stamp(rec.updated), "archived": rec.archived}
	if rec.archived {
		w["archivedAt"] = stamp(rec.archivedAt)
	}
	return w
}

// Object is a record as the admin API shows it.
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
	Archived   bool              `json:"archived"`
}

func (rec *record) object() Object {
	return Object{ID: rec.id, Properties: maps.Clone(rec.props), CreatedAt: rec.created, UpdatedAt: rec.updated, Archived: rec.archived}
}
