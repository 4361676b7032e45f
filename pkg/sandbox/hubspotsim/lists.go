package hubspotsim

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crmsync/crmsync/pkg/hubspot"
)

// Lists v3 (CRM lists reference; @hubspot/api-client ListsApi and
// MembershipsApi): MANUAL and SNAPSHOT lists are created, read, deleted
// and have members added and removed through the API; the admin API
// (AddToList) makes MANUAL lists too. DYNAMIC lists, whose members come
// from filters, are refused with 400: the portal does not evaluate list
// filters.

// listInfo is a list (PublicObjectList).
type listInfo struct {
	ID             string
	Name           string
	ObjectTypeID   string
	ProcessingType string
	created        time.Time
	updated        time.Time
	version        int
}

func (l *listInfo) wire(size int) map[string]any {
	return map[string]any{"listId": l.ID, "name": l.Name, "objectTypeId": l.ObjectTypeID,
		"processingType": l.ProcessingType, "processingStatus": "COMPLETE", "listVersion": max(l.version, 1),
		"createdAt": stamp(l.created), "updatedAt": stamp(l.updated), "filtersUpdatedAt": stamp(l.created), "size": size}
}

func (p *Portal) listRoutes() {
	m := p.mux
	for _, base := range []string{"/crm/v3/lists", "/crm/v3/lists/{$}"} {
		m.HandleFunc("POST "+base, p.api(false, p.createList))
	}
	m.HandleFunc("GET /crm/v3/lists/{listId}", p.api(false, p.withList(func(w http.ResponseWriter, r *http.Request, l *listInfo) {
		writeJSON(w, http.StatusOK, map[string]any{"list": l.wire(len(p.lists[l.ID]))})
	})))
	m.HandleFunc("GET /crm/v3/lists/object-type-id/{typeId}/name/{name}", p.api(false, p.listByName))
	m.HandleFunc("DELETE /crm/v3/lists/{listId}", p.api(false, p.withList(func(w http.ResponseWriter, r *http.Request, l *listInfo) {
		delete(p.listMeta, l.ID)
		delete(p.lists, l.ID)
		w.WriteHeader(http.StatusNoContent)
	})))
	m.HandleFunc("PUT /crm/v3/lists/{listId}/memberships/add", p.api(false, p.withList(p.addMembers)))
	m.HandleFunc("PUT /crm/v3/lists/{listId}/memberships/remove", p.api(false, p.withList(p.removeMembers)))
}

// createList is POST /crm/v3/lists/: name, objectTypeId and
// processingType are required; 200 with {list}.
func (p *Portal) createList(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name           string         `json:"name"`
		ObjectTypeID   string         `json:"objectTypeId"`
		ProcessingType string         `json:"processingType"`
		FilterBranch   map[string]any `json:"filterBranch"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	o, typeOK := objectTypeOf(in.ObjectTypeID)
	switch {
	case in.Name == "":
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "name is required", nil)
		return
	case !typeOK:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unknown objectTypeId "+strconv.Quote(in.ObjectTypeID), nil)
		return
	case in.ProcessingType == "DYNAMIC":
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "DYNAMIC lists are not simulated (the sandbox portal does not evaluate list filters); use MANUAL or SNAPSHOT", nil)
		return
	case in.ProcessingType != "MANUAL" && in.ProcessingType != "SNAPSHOT":
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "processingType must be one of MANUAL, DYNAMIC, SNAPSHOT; got "+strconv.Quote(in.ProcessingType), nil)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.listMeta {
		if l.Name == in.Name && l.ObjectTypeID == hubspot.ObjectTypeID(o) {
			writeError(w, http.StatusConflict, "CONFLICT", "A list named "+strconv.Quote(in.Name)+" already exists: "+l.ID, nil)
			return
		}
	}
	for p.nextList++; p.listMeta[strconv.FormatInt(p.nextList, 10)] != nil; p.nextList++ {
	}
	id := strconv.FormatInt(p.nextList, 10)
	now := p.now()
	l := &listInfo{ID: id, Name: in.Name, ObjectTypeID: hubspot.ObjectTypeID(o), ProcessingType: in.ProcessingType, created: now, updated: now, version: 1}
	p.listMeta[id] = l
	p.lists[id] = map[string]time.Time{}
	writeJSON(w, http.StatusOK, map[string]any{"list": l.wire(0)})
}

func (p *Portal) listByName(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := objectTypeOf(r.PathValue("typeId"))
	for _, l := range p.listMeta {
		if ok && l.ObjectTypeID == hubspot.ObjectTypeID(o) && l.Name == r.PathValue("name") {
			writeJSON(w, http.StatusOK, map[string]any{"list": l.wire(len(p.lists[l.ID]))})
			return
		}
	}
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "List "+strconv.Quote(r.PathValue("name"))+" does not exist", nil)
}

type listHandler func(w http.ResponseWriter, r *http.Request, l *listInfo)

// withList finds {listId} and calls h with p.mu held.
func (p *Portal) withList(h listHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		l := p.listMeta[r.PathValue("listId")]
		if l == nil {
			writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "List "+r.PathValue("listId")+" does not exist", nil)
			return
		}
		h(w, r, l)
	}
}

// addMembers is PUT /crm/v3/lists/{listId}/memberships/add with a JSON
// array of record ids: 200 {recordsIdsAdded, recordIdsMissing} — the
// first key is spelt so in HubSpot's API (MembershipsUpdateResponse).
// Ids already members are neither added nor missing.
func (p *Portal) addMembers(w http.ResponseWriter, r *http.Request, l *listInfo) {
	p.changeMembers(w, r, l, "recordsIdsAdded", func(key string, live bool) bool {
		if _, in := p.lists[l.ID][key]; in || !live {
			return false
		}
		p.lists[l.ID][key] = p.now()
		return true
	})
}

// removeMembers is PUT /crm/v3/lists/{listId}/memberships/remove: 200
// {recordIdsRemoved, recordIdsMissing}.
func (p *Portal) removeMembers(w http.ResponseWriter, r *http.Request, l *listInfo) {
	p.changeMembers(w, r, l, "recordIdsRemoved", func(key string, _ bool) bool {
		if _, in := p.lists[l.ID][key]; !in {
			return false
		}
		delete(p.lists[l.ID], key)
		return true
	})
}

// changeMembers applies change to each id of the body; an id change
// refuses for a record that does not exist is missing. p.mu is held.
func (p *Portal) changeMembers(w http.ResponseWriter, r *http.Request, l *listInfo, doneKey string, change func(key string, live bool) bool) {
	var ids []string
	if !readJSON(w, r, &ids) {
		return
	}
	if l.ProcessingType == "DYNAMIC" {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "The memberships of a DYNAMIC list cannot be changed by hand", nil)
		return
	}
	o, _ := objectTypeOf(l.ObjectTypeID)
	done, missing := []string{}, []string{}
	for _, id := range ids {
		live := p.find(o, id, "") != nil
		switch {
		case change(memberKey(o, id), live):
			done = append(done, id)
		case !live:
			missing = append(missing, id)
		}
	}
	if len(done) > 0 {
		l.version++
		l.updated = p.now()
	}
	slices.Sort(done)
	writeJSON(w, http.StatusOK, map[string]any{doneKey: done, "recordIdsMissing": missing})
}
