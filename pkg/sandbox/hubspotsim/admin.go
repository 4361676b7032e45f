package hubspotsim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// userSource is how a change a person made in HubSpot's UI is reported.
var userSource = source{changeSource: "CRM_UI", sourceID: "userId:2620022"}

// AdminError is a change the portal refused (the same rules the API
// enforces: unique contact email, lifecycle stage order, valid values).
type AdminError struct {
	Category string
	Message  string
}

func (e *AdminError) Error() string { return "hubspotsim: " + e.Category + ": " + e.Message }

func adminErr(e *apiError) error {
	if e == nil {
		return nil
	}
	return &AdminError{Category: e.Category, Message: e.Message}
}

// CreateAsUser creates a record as a person in HubSpot's UI would (webhook
// changeSource CRM_UI). An engagement without hs_timestamp gets the
// current time, as the UI's activity date defaults to now.
func (p *Portal) CreateAsUser(o crmsync.ObjectType, props map[string]string) (Object, error) {
	return p.CreateAsUserWith(o, props, nil)
}

// CreateAsUserWith creates a record associated with others at once, as a
// person logging a call or a note on a contact's record does: the record
// never exists without its associations (to maps an object type to ids).
func (p *Portal) CreateAsUserWith(o crmsync.ObjectType, props map[string]string, to map[crmsync.ObjectType][]string) (Object, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, ids := range to {
		for _, id := range ids {
			if p.find(t, id, "") == nil {
				return Object{}, &AdminError{Category: "OBJECT_NOT_FOUND", Message: "association with unknown " + string(t) + " " + id}
			}
		}
	}
	props = maps.Clone(props)
	if props == nil {
		props = map[string]string{}
	}
	for _, k := range requiredOnCreate(o) {
		if k == "hs_timestamp" && props[k] == "" {
			props[k] = stamp(p.now())
		}
	}
	rec, err := p.create(o, props, userSource)
	if err != nil {
		return Object{}, adminErr(err)
	}
	for _, t := range slices.Sorted(maps.Keys(to)) {
		for _, id := range to[t] {
			p.link(o, rec.id, t, id, []hubspot.AssociationLabel{defaultLabel(o, t)}, userSource)
		}
	}
	return rec.object(), nil
}

// UpdateAsUser changes properties of a record as a person would.
func (p *Portal) UpdateAsUser(o crmsync.ObjectType, id string, props map[string]string) (Object, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.update(o, id, props, userSource)
	if err != nil {
		return Object{}, adminErr(err)
	}
	return rec.object(), nil
}

// DeleteAsUser archives a record as a person would.
func (p *Portal) DeleteAsUser(o crmsync.ObjectType, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return adminErr(p.archive(o, id, userSource))
}

// RestoreAsUser restores an archived record.
func (p *Portal) RestoreAsUser(o crmsync.ObjectType, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.table(o)[id]
	if rec == nil || !rec.archived {
		return &AdminError{Category: "OBJECT_NOT_FOUND", Message: "no archived " + string(o) + " " + id}
	}
	rec.archived = false
	rec.updated = p.now()
	p.stamp(o, rec)
	p.emit(o, "restore", id, "", userSource, nil)
	return nil
}

// MergeContacts merges merged into primary as a person would: primary
// keeps its id and takes merged's values where its own are empty; merged
// is archived; a contact.merge event is sent.
func (p *Portal) MergeContacts(primaryID, mergedID string) (Object, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.table(crmsync.HSContact)
	primary, merged := t[primaryID], t[mergedID]
	if primary == nil || merged == nil || primary.archived || merged.archived || primaryID == mergedID {
		return Object{}, &AdminError{Category: "VALIDATION_ERROR", Message: "merge needs two live contacts"}
	}
	moved := 0
	for k, v := range merged.props {
		if _, has := primary.props[k]; !has && !readOnly[k] {
			primary.props[k] = v
			moved++
		}
	}
	merged.archived, merged.archivedAt = true, p.now()
	primary.updated = p.now()
	p.stamp(crmsync.HSContact, primary)
	e := p.newEvent(crmsync.HSContact, "merge", userSource)
	e.ObjectID, e.PrimaryObjectID, e.NewObjectID = parseID(primaryID), parseID(primaryID), parseID(primaryID)
	e.MergedObjectIDs = []int64{parseID(mergedID)}
	e.NumberOfPropertiesMoved = &moved
	p.queue(e)
	return primary.object(), nil
}

// Associate associates two records as a person would.
func (p *Portal) Associate(from crmsync.ObjectType, fromID string, to crmsync.ObjectType, toID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.find(from, fromID, "") == nil || p.find(to, toID, "") == nil {
		return &AdminError{Category: "OBJECT_NOT_FOUND", Message: "association of unknown records"}
	}
	p.link(from, fromID, to, toID, []hubspot.AssociationLabel{defaultLabel(from, to)}, userSource)
	return nil
}

// Associations returns the ids associated with a record (admin view).
func (p *Portal) Associations(from crmsync.ObjectType, id string, to crmsync.ObjectType) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.assocs[assocKey{from, to}][id] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// AddOwner adds an owner as it is (no user behind it is created; use
// the settings/v3/users API or AddUser for a user who owns records).
func (p *Portal) AddOwner(o hubspot.Owner) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = p.now()
		o.UpdatedAt = o.CreatedAt
	}
	p.owners = append(p.owners, &owner{Owner: o})
}

// AddToList makes a record a member of a list (creating the list).
func (p *Portal) AddToList(listID string, o crmsync.ObjectType, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lists[listID] == nil {
		p.lists[listID] = map[string]time.Time{}
	}
	if p.listMeta[listID] == nil {
		p.listMeta[listID] = &listInfo{ID: listID, Name: "List " + listID, ObjectTypeID: hubspot.ObjectTypeID(o),
			ProcessingType: "MANUAL", created: p.now(), updated: p.now()}
	}
	p.lists[listID][memberKey(o, id)] = p.now()
}

// RemoveFromList removes a record from a list.
func (p *Portal) RemoveFromList(listID string, o crmsync.ObjectType, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.lists[listID], memberKey(o, id))
}

// Objects returns every record of a type, archived ones included, by id.
func (p *Portal) Objects(o crmsync.ObjectType) []Object {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Object, 0, len(p.objects[o]))
	for _, rec := range p.objects[o] {
		out = append(out, rec.object())
	}
	slices.SortFunc(out, func(a, b Object) int { return compareValues(a.ID, b.ID) })
	return out
}

// Object returns one record (archived included).
func (p *Portal) Object(o crmsync.ObjectType, id string) (Object, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.objects[o][id]
	if rec == nil {
		return Object{}, false
	}
	return rec.object(), true
}

// adminRoutes serves the admin API under /_admin/ (no auth, no limits,
// no faults): what a person does in the UI, and read-back for tests.
//
//	POST   /_admin/objects/{type}                 {"properties":{…}, "with":{"contacts":["1"]}}  create as a user (associated at once)
//	GET    /_admin/objects/{type}                 every record, archived included
//	PATCH  /_admin/objects/{type}/{id}            {"properties":{…}}  update as a user
//	DELETE /_admin/objects/{type}/{id}            archive as a user
//	POST   /_admin/objects/{type}/{id}/restore
//	POST   /_admin/contacts/{id}/merge/{mergedId}
//	POST   /_admin/associations/{from}/{fromId}/{to}/{toId}
//	POST   /_admin/owners                         an owner (HubSpot's shape)
//	PUT    /_admin/lists/{listId}/{type}/{id}     add to a list; DELETE removes
//	POST   /_admin/forms                          {"name", "fields":[{name,label,fieldType}]}
//	POST   /_admin/forms/{formGuid}/submissions   {"values":[{name,value}], "pageUrl", "submittedAt" (ms)}
//	POST   /_admin/email/campaigns                {"name", "subject"}
//	POST   /_admin/email/events                   {"type", "recipient", "emailCampaignId", "url", "created" (ms), "filteredEvent"}
//	PUT    /_admin/faults                         Faults (durations in nanoseconds)
//	POST   /_admin/webhooks/flush                 deliver pending webhooks now
//	GET    /_admin/webhooks                       the delivery log
func (p *Portal) adminRoutes() {
	m := p.mux
	m.HandleFunc("POST /_admin/objects/{type}", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		var in struct {
			Properties map[string]string `json:"properties"`
			// With associates the new record at once: object type
			// (contacts, deals, …) → ids, as logging a call on a record does.
			With map[string][]string `json:"with"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		with := map[crmsync.ObjectType][]string{}
		for name, ids := range in.With {
			t, ok := objectTypeOf(name)
			if !ok {
				writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unable to infer object type from: "+name, nil)
				return
			}
			with[t] = ids
		}
		obj, err := p.CreateAsUserWith(o, in.Properties, with)
		adminAnswer(w, http.StatusCreated, obj, err)
	}))
	m.HandleFunc("GET /_admin/objects/{type}", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		writeJSON(w, http.StatusOK, p.Objects(o))
	}))
	m.HandleFunc("PATCH /_admin/objects/{type}/{id}", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		var in objectInput
		if readJSON(w, r, &in) {
			obj, err := p.UpdateAsUser(o, r.PathValue("id"), in.Properties)
			adminAnswer(w, http.StatusOK, obj, err)
		}
	}))
	m.HandleFunc("DELETE /_admin/objects/{type}/{id}", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		adminAnswer(w, http.StatusNoContent, nil, p.DeleteAsUser(o, r.PathValue("id")))
	}))
	m.HandleFunc("POST /_admin/objects/{type}/{id}/restore", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		adminAnswer(w, http.StatusNoContent, nil, p.RestoreAsUser(o, r.PathValue("id")))
	}))
	m.HandleFunc("POST /_admin/contacts/{id}/merge/{merged}", func(w http.ResponseWriter, r *http.Request) {
		obj, err := p.MergeContacts(r.PathValue("id"), r.PathValue("merged"))
		adminAnswer(w, http.StatusOK, obj, err)
	})
	m.HandleFunc("POST /_admin/associations/{from}/{fromId}/{to}/{toId}", p.withPair(func(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
		adminAnswer(w, http.StatusNoContent, nil, p.Associate(from, r.PathValue("fromId"), to, r.PathValue("toId")))
	}))
	m.HandleFunc("POST /_admin/owners", func(w http.ResponseWriter, r *http.Request) {
		var o hubspot.Owner
		if readJSON(w, r, &o) {
			p.AddOwner(o)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	m.HandleFunc("PUT /_admin/lists/{listId}/{type}/{id}", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		p.AddToList(r.PathValue("listId"), o, r.PathValue("id"))
		w.WriteHeader(http.StatusNoContent)
	}))
	m.HandleFunc("DELETE /_admin/lists/{listId}/{type}/{id}", p.withType(func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
		p.RemoveFromList(r.PathValue("listId"), o, r.PathValue("id"))
		w.WriteHeader(http.StatusNoContent)
	}))
	m.HandleFunc("PUT /_admin/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if readJSON(w, r, &f) {
			p.SetFaults(f)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	m.HandleFunc("POST /_admin/webhooks/flush", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
		defer cancel()
		if err := p.FlushWebhooks(ctx); err != nil {
			writeError(w, http.StatusBadGateway, "WEBHOOK_DELIVERY", err.Error(), nil)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /_admin/webhooks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"pending": p.Pending(), "deliveries": p.Deliveries()})
	})
}

func adminAnswer(w http.ResponseWriter, status int, v any, err error) {
	var ae *AdminError
	switch {
	case errors.As(err, &ae):
		code := http.StatusBadRequest
		switch ae.Category {
		case "CONFLICT":
			code = http.StatusConflict
		case "OBJECT_NOT_FOUND":
			code = http.StatusNotFound
		}
		writeError(w, code, ae.Category, ae.Message, nil)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", fmt.Sprint(err), nil)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, v)
	}
}
