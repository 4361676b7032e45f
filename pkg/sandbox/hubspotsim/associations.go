package hubspotsim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// defaultTypes are HubSpot's unlabelled (HUBSPOT_DEFINED) association
// type ids per pair, engagements' included (associations v4 guide,
// "Association type ID values": call → contact 194, contact → call 193…).
var defaultTypes = map[assocKey]int{
	{crmsync.HSContact, crmsync.HSCompany}: 279, {crmsync.HSCompany, crmsync.HSContact}: 280,
	{crmsync.HSDeal, crmsync.HSContact}: 3, {crmsync.HSContact, crmsync.HSDeal}: 4,
	{crmsync.HSDeal, crmsync.HSCompany}: 341, {crmsync.HSCompany, crmsync.HSDeal}: 342,
	{crmsync.HSCall, crmsync.HSContact}: 194, {crmsync.HSContact, crmsync.HSCall}: 193,
	{crmsync.HSCall, crmsync.HSCompany}: 182, {crmsync.HSCompany, crmsync.HSCall}: 181,
	{crmsync.HSCall, crmsync.HSDeal}: 206, {crmsync.HSDeal, crmsync.HSCall}: 205,
	{crmsync.HSSalesEmail, crmsync.HSContact}: 198, {crmsync.HSContact, crmsync.HSSalesEmail}: 197,
	{crmsync.HSSalesEmail, crmsync.HSCompany}: 186, {crmsync.HSCompany, crmsync.HSSalesEmail}: 185,
	{crmsync.HSSalesEmail, crmsync.HSDeal}: 210, {crmsync.HSDeal, crmsync.HSSalesEmail}: 209,
	{crmsync.HSMeeting, crmsync.HSContact}: 200, {crmsync.HSContact, crmsync.HSMeeting}: 199,
	{crmsync.HSMeeting, crmsync.HSCompany}: 188, {crmsync.HSCompany, crmsync.HSMeeting}: 187,
	{crmsync.HSMeeting, crmsync.HSDeal}: 212, {crmsync.HSDeal, crmsync.HSMeeting}: 211,
	{crmsync.HSNote, crmsync.HSContact}: 202, {crmsync.HSContact, crmsync.HSNote}: 201,
	{crmsync.HSNote, crmsync.HSCompany}: 190, {crmsync.HSCompany, crmsync.HSNote}: 189,
	{crmsync.HSNote, crmsync.HSDeal}: 214, {crmsync.HSDeal, crmsync.HSNote}: 213,
	{crmsync.HSTask, crmsync.HSContact}: 204, {crmsync.HSContact, crmsync.HSTask}: 203,
	{crmsync.HSTask, crmsync.HSCompany}: 192, {crmsync.HSCompany, crmsync.HSTask}: 191,
	{crmsync.HSTask, crmsync.HSDeal}: 216, {crmsync.HSDeal, crmsync.HSTask}: 215,
}

// definedPairs maps a HUBSPOT_DEFINED type id back to its pair, with the
// labelled defaults HubSpot also defines (1/2 primary company, 5/6 the
// deal's primary company).
var definedPairs = func() map[int]assocKey {
	m := map[int]assocKey{1: {crmsync.HSContact, crmsync.HSCompany}, 2: {crmsync.HSCompany, crmsync.HSContact},
		5: {crmsync.HSDeal, crmsync.HSCompany}, 6: {crmsync.HSCompany, crmsync.HSDeal}}
	for k, id := range defaultTypes {
		m[id] = k
	}
	return m
}()

func defaultLabel(from, to crmsync.ObjectType) hubspot.AssociationLabel {
	id, ok := defaultTypes[assocKey{from, to}]
	if !ok {
		id = 1000 // an unlabelled pair crmsync does not rely on
	}
	return hubspot.AssociationLabel{Category: "HUBSPOT_DEFINED", TypeID: id}
}

// associationsPageSize is how many associations of one record a batch
// read returns before paging (small, so clients' paging is exercised).
const associationsPageSize = 100

func (p *Portal) associationRoutes() {
	const v4 = "/crm/v4/associations/{from}/{to}"
	p.mux.HandleFunc("POST "+v4+"/batch/read", p.api(false, p.withPair(p.assocRead)))
	p.mux.HandleFunc("POST "+v4+"/batch/create", p.api(false, p.withPair(p.assocCreate)))
	p.mux.HandleFunc("POST "+v4+"/batch/associate/default", p.api(false, p.withPair(p.assocCreateDefault)))
	p.mux.HandleFunc("POST "+v4+"/batch/archive", p.api(false, p.withPair(p.assocArchive)))
	const one = "/crm/v4/objects/{from}/{id}/associations"
	p.mux.HandleFunc("GET "+one+"/{to}", p.api(false, p.withPair(p.assocPage)))
	p.mux.HandleFunc("PUT "+one+"/default/{to}/{toId}", p.api(false, p.withPair(p.assocPutDefault)))
	p.mux.HandleFunc("PUT "+one+"/{to}/{toId}", p.api(false, p.withPair(p.assocPutLabels)))
	p.mux.HandleFunc("DELETE "+one+"/{to}/{toId}", p.api(false, p.withPair(p.assocDeletePair)))
}

// invalidIDs is the error of an association between ids that do not
// exist (HubSpot: 400, subCategory crm.associations.INVALID_OBJECT_IDS).
func invalidIDs(fromID, toID string) *apiError {
	e := newAPIError("VALIDATION_ERROR", "One or more of the object ids are invalid", map[string][]string{"fromObjectId": {fromID}, "toObjectId": {toID}})
	e.SubCategory = "crm.associations.INVALID_OBJECT_IDS"
	return e
}

// defaultAssociation is PublicDefaultAssociation, one result of creating
// a default association.
func defaultAssociation(from crmsync.ObjectType, fromID string, to crmsync.ObjectType, toID string) map[string]any {
	l := defaultLabel(from, to)
	return map[string]any{"from": map[string]string{"id": fromID}, "to": map[string]string{"id": toID},
		"associationSpec": map[string]any{"associationCategory": l.Category, "associationTypeId": l.TypeID}}
}

// assocPutDefault is PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/
// associations/default/{toObjectType}/{toObjectId}: it associates the two
// records with the default (unlabelled) type and answers 200 with
// BatchResponsePublicDefaultAssociation (associations v4 reference;
// @hubspot/api-client BasicApi.createDefault).
func (p *Portal) assocPutDefault(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	fromID, toID := r.PathValue("id"), r.PathValue("toId")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.find(from, fromID, "") == nil || p.find(to, toID, "") == nil {
		e := invalidIDs(fromID, toID)
		writeJSON(w, statusOf(e), e)
		return
	}
	p.link(from, fromID, to, toID, []hubspot.AssociationLabel{defaultLabel(from, to)}, p.apiSource(r))
	p.batchAnswer(w, http.StatusOK, []map[string]any{defaultAssociation(from, fromID, to, toID)}, nil)
}

// assocPutLabels is PUT /crm/v4/objects/{objectType}/{objectId}/
// associations/{toObjectType}/{toObjectId} with a body of
// [{associationCategory, associationTypeId}]: 201 with
// LabelsBetweenObjectPair.
func (p *Portal) assocPutLabels(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	var specs []struct {
		Category string `json:"associationCategory"`
		TypeID   int    `json:"associationTypeId"`
	}
	if !readJSON(w, r, &specs) {
		return
	}
	if len(specs) == 0 {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "At least one association type is required", nil)
		return
	}
	labels := make([]hubspot.AssociationLabel, 0, len(specs))
	for _, s := range specs {
		switch s.Category {
		case "HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED":
		default:
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "associationCategory must be one of HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED; got "+strconv.Quote(s.Category), nil)
			return
		}
		labels = append(labels, hubspot.AssociationLabel{Category: s.Category, TypeID: s.TypeID})
	}
	fromID, toID := r.PathValue("id"), r.PathValue("toId")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.find(from, fromID, "") == nil || p.find(to, toID, "") == nil {
		e := invalidIDs(fromID, toID)
		writeJSON(w, statusOf(e), e)
		return
	}
	p.link(from, fromID, to, toID, labels, p.apiSource(r))
	writeJSON(w, http.StatusCreated, map[string]any{"fromObjectTypeId": hubspot.ObjectTypeID(from), "fromObjectId": parseID(fromID),
		"toObjectTypeId": hubspot.ObjectTypeID(to), "toObjectId": parseID(toID), "labels": []string{}})
}

// assocDeletePair is DELETE /crm/v4/objects/{objectType}/{objectId}/
// associations/{toObjectType}/{toObjectId}: every association between the
// two records goes; 204 whether or not there was one.
func (p *Portal) assocDeletePair(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unlink(from, r.PathValue("id"), to, r.PathValue("toId"), p.apiSource(r))
	w.WriteHeader(http.StatusNoContent)
}

// addAssociations adds to out (a record in wire shape) the
// "associations" member that GET /crm/v3/objects/{type}/{id}?associations=…
// answers with: per requested type that has any, {results: [{id, type}]},
// the type named from_to_to ("contact_to_company"). Unknown types are
// left out, as HubSpot leaves out types without associations. p.mu is
// held.
func (p *Portal) addAssociations(out map[string]any, o crmsync.ObjectType, id string, types []string) {
	assocs := map[string]any{}
	for _, t := range types {
		to, ok := objectTypeOf(t)
		if !ok {
			continue
		}
		m := p.assocs[assocKey{o, to}][id]
		if len(m) == 0 {
			continue
		}
		ids := make([]string, 0, len(m))
		for k := range m {
			ids = append(ids, k)
		}
		slices.SortFunc(ids, compareValues)
		results := make([]map[string]string, 0, len(ids))
		for _, k := range ids {
			results = append(results, map[string]string{"id": k, "type": string(o) + "_to_" + string(to)})
		}
		assocs[hubspot.ObjectPath(to)] = map[string]any{"results": results}
	}
	if len(assocs) > 0 {
		out["associations"] = assocs
	}
}

type pairHandler func(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType)

func (p *Portal) withPair(h pairHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		from, ok1 := objectTypeOf(r.PathValue("from"))
		to, ok2 := objectTypeOf(r.PathValue("to"))
		if !ok1 || !ok2 {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unknown object type in "+r.URL.Path, nil)
			return
		}
		h(w, r, from, to)
	}
}

// link stores from→to and to→from with labels; p.mu is held. It emits
// associationChange events for both records.
func (p *Portal) link(from crmsync.ObjectType, fromID string, to crmsync.ObjectType, toID string, labels []hubspot.AssociationLabel, src source) {
	set := func(a crmsync.ObjectType, aID string, b crmsync.ObjectType, bID string, ls []hubspot.AssociationLabel) {
		k := assocKey{a, b}
		if p.assocs[k] == nil {
			p.assocs[k] = map[string]map[string][]hubspot.AssociationLabel{}
		}
		if p.assocs[k][aID] == nil {
			p.assocs[k][aID] = map[string][]hubspot.AssociationLabel{}
		}
		for _, l := range ls {
			if !slices.Contains(p.assocs[k][aID][bID], l) {
				p.assocs[k][aID][bID] = append(p.assocs[k][aID][bID], l)
			}
		}
	}
	set(from, fromID, to, toID, labels)
	set(to, toID, from, fromID, []hubspot.AssociationLabel{defaultLabel(to, from)})
	p.emitAssociation(from, fromID, to, toID, false, src)
	p.emitAssociation(to, toID, from, fromID, false, src)
}

func (p *Portal) unlink(from crmsync.ObjectType, fromID string, to crmsync.ObjectType, toID string, src source) bool {
	m := p.assocs[assocKey{from, to}][fromID]
	if _, ok := m[toID]; !ok {
		return false
	}
	delete(m, toID)
	delete(p.assocs[assocKey{to, from}][toID], fromID)
	p.emitAssociation(from, fromID, to, toID, true, src)
	p.emitAssociation(to, toID, from, fromID, true, src)
	return true
}

func (p *Portal) emitAssociation(from crmsync.ObjectType, fromID string, to crmsync.ObjectType, toID string, removed bool, src source) {
	if !legacy(from) || !legacy(to) {
		return
	}
	e := p.newEvent(from, "associationChange", src)
	e.FromObjectID, e.ToObjectID = parseID(fromID), parseID(toID)
	e.AssociationType = strings.ToUpper(string(from)) + "_TO_" + strings.ToUpper(string(to))
	e.AssociationRemoved = &removed
	primary := false
	e.IsPrimaryAssociation = &primary
	p.queue(e)
}

// pendingLink is one association of a create, checked before the record
// exists and made after.
type pendingLink struct {
	to     crmsync.ObjectType
	toID   string
	labels []hubspot.AssociationLabel
}

// createAssociations checks the "associations" of a create of an object
// of type o, as HubSpot does before creating anything: each needs a
// target and types; a HUBSPOT_DEFINED type id names the pair (194 is
// call → contact) and must start at o; the target must exist (400
// VALIDATION_ERROR otherwise, and nothing is created). A type id the sim
// does not know (USER_DEFINED labels) finds the target by id among every
// type: ids are unique across types in the sim. p.mu is held.
func (p *Portal) createAssociations(o crmsync.ObjectType, in []hubspot.AssociationInput) ([]pendingLink, *apiError) {
	var out []pendingLink
	for _, a := range in {
		if a.To.ID == "" || len(a.Types) == 0 {
			return nil, newAPIError("VALIDATION_ERROR", "Invalid association: to.id and at least one type are required", nil)
		}
		var to crmsync.ObjectType
		labels := make([]hubspot.AssociationLabel, 0, len(a.Types))
		for _, ty := range a.Types {
			labels = append(labels, hubspot.AssociationLabel{Category: ty.Category, TypeID: ty.TypeID})
			pair, known := definedPairs[ty.TypeID]
			if ty.Category != "HUBSPOT_DEFINED" || !known {
				continue
			}
			if pair.from != o || (to != "" && to != pair.to) {
				e := newAPIError("VALIDATION_ERROR", fmt.Sprintf("association type id %d is not valid from %s", ty.TypeID, o),
					map[string][]string{"associationTypeId": {strconv.Itoa(ty.TypeID)}})
				e.SubCategory = "crm.associations.INVALID_ASSOCIATION_TYPE"
				return nil, e
			}
			to = pair.to
		}
		if to == "" {
			for t := range p.objects {
				if p.find(t, a.To.ID, "") != nil {
					to = t
					break
				}
			}
		}
		if to == "" || p.find(to, a.To.ID, "") == nil {
			return nil, invalidIDs("", a.To.ID)
		}
		out = append(out, pendingLink{to: to, toID: a.To.ID, labels: labels})
	}
	return out, nil
}

// linkCreated makes a created object's checked associations; p.mu is held.
func (p *Portal) linkCreated(o crmsync.ObjectType, id string, links []pendingLink, src source) {
	for _, l := range links {
		p.link(o, id, l.to, l.toID, l.labels, src)
	}
}

type assocInput struct {
	// ID is a batch read's input; the others name From and To.
	ID   string `json:"id"`
	From struct {
		ID string `json:"id"`
	} `json:"from"`
	To    any                       `json:"to"` // {id} for create, [{id}] for archive
	Types []hubspot.AssociationType `json:"types"`
}

func toIDs(v any) []string {
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["id"].(string); ok {
			return []string{id}
		}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, toIDs(x)...)
		}
		return out
	}
	return nil
}

func (p *Portal) readAssocBatch(w http.ResponseWriter, r *http.Request) ([]assocInput, bool) {
	var req struct {
		Inputs []assocInput `json:"inputs"`
	}
	if !readJSON(w, r, &req) {
		return nil, false
	}
	if len(req.Inputs) > hubspot.MaxBatch {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Batch input cannot contain more than 100 inputs", nil)
		return nil, false
	}
	return req.Inputs, true
}

func (p *Portal) assocRead(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	inputs, ok := p.readAssocBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var results []map[string]any
	var errs []*apiError
	for _, in := range inputs {
		in.From.ID = cmp.Or(in.ID, in.From.ID)
		tos, next := p.assocList(from, in.From.ID, to, 0, associationsPageSize)
		if len(tos) == 0 {
			e := newAPIError("VALIDATION_ERROR", "No "+string(to)+" is associated with "+string(from)+" "+in.From.ID+".",
				map[string][]string{"fromObjectId": {in.From.ID}, "toObjectType": {string(to)}})
			e.SubCategory = "crm.associations.NO_ASSOCIATIONS_FOUND"
			errs = append(errs, e)
			continue
		}
		res := map[string]any{"from": map[string]string{"id": in.From.ID}, "to": tos}
		if next != "" {
			res["paging"] = map[string]any{"next": map[string]string{"after": next}}
		}
		results = append(results, res)
	}
	p.batchAnswer(w, http.StatusOK, results, errs)
}

// assocList returns one page of from's associations to type to, ordered
// by id, and the next offset ("" when none).
func (p *Portal) assocList(from crmsync.ObjectType, id string, to crmsync.ObjectType, offset, limit int) ([]map[string]any, string) {
	m := p.assocs[assocKey{from, to}][id]
	ids := make([]string, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	slices.SortFunc(ids, func(a, b string) int { return compareValues(a, b) })
	var out []map[string]any
	for _, k := range ids[min(offset, len(ids)):min(offset+limit, len(ids))] {
		out = append(out, map[string]any{"toObjectId": parseID(k), "associationTypes": m[k]})
	}
	if offset+limit < len(ids) {
		return out, strconv.Itoa(offset + limit)
	}
	return out, ""
}

func (p *Portal) assocPage(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	offset, _ := strconv.Atoi(r.URL.Query().Get("after"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tos, next := p.assocList(from, r.PathValue("id"), to, offset, limit)
	body := map[string]any{"results": tos}
	if tos == nil {
		body["results"] = []any{}
	}
	if next != "" {
		body["paging"] = map[string]any{"next": map[string]string{"after": next}}
	}
	writeJSON(w, http.StatusOK, body)
}

// assocCreate is POST /crm/v4/associations/{from}/{to}/batch/create:
// 201 with LabelsBetweenObjectPair results.
func (p *Portal) assocCreate(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	p.assocBatchCreate(w, r, from, to, http.StatusCreated, func(in assocInput, toID string) map[string]any {
		labels := []hubspot.AssociationLabel{defaultLabel(from, to)}
		if len(in.Types) > 0 {
			labels = labels[:0]
			for _, t := range in.Types {
				labels = append(labels, hubspot.AssociationLabel{Category: t.Category, TypeID: t.TypeID})
			}
		}
		p.link(from, in.From.ID, to, toID, labels, p.apiSource(r))
		return map[string]any{"fromObjectTypeId": hubspot.ObjectTypeID(from), "fromObjectId": parseID(in.From.ID),
			"toObjectTypeId": hubspot.ObjectTypeID(to), "toObjectId": parseID(toID), "labels": []string{}}
	})
}

// assocCreateDefault is POST /crm/v4/associations/{from}/{to}/batch/
// associate/default: 200 with PublicDefaultAssociation results (not the
// 201 LabelsBetweenObjectPair of batch/create).
func (p *Portal) assocCreateDefault(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	p.assocBatchCreate(w, r, from, to, http.StatusOK, func(in assocInput, toID string) map[string]any {
		p.link(from, in.From.ID, to, toID, []hubspot.AssociationLabel{defaultLabel(from, to)}, p.apiSource(r))
		return defaultAssociation(from, in.From.ID, to, toID)
	})
}

// assocBatchCreate checks each input's ids and calls create (p.mu held)
// for the valid ones; invalid ones are the batch's errors.
func (p *Portal) assocBatchCreate(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType, okStatus int, create func(in assocInput, toID string) map[string]any) {
	inputs, ok := p.readAssocBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var results []map[string]any
	var errs []*apiError
	for _, in := range inputs {
		tos := toIDs(in.To)
		if len(tos) != 1 || p.find(from, in.From.ID, "") == nil || p.find(to, tos[0], "") == nil {
			errs = append(errs, invalidIDs(in.From.ID, strings.Join(tos, ",")))
			continue
		}
		results = append(results, create(in, tos[0]))
	}
	p.batchAnswer(w, okStatus, results, errs)
}

func (p *Portal) assocArchive(w http.ResponseWriter, r *http.Request, from, to crmsync.ObjectType) {
	inputs, ok := p.readAssocBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range inputs {
		for _, t := range toIDs(in.To) {
			p.unlink(from, in.From.ID, to, t, p.apiSource(r))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
