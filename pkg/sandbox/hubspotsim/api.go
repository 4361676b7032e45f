package hubspotsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

func (p *Portal) routes() {
	m := p.mux
	const obj = "/crm/v3/objects/{type}"
	m.HandleFunc("GET "+obj, p.api(false, p.withType(p.listObjects)))
	m.HandleFunc("GET "+obj+"/{id}", p.api(false, p.withType(p.getObject)))
	m.HandleFunc("PATCH "+obj+"/{id}", p.api(false, p.withType(p.updateObject)))
	m.HandleFunc("DELETE "+obj+"/{id}", p.api(false, p.withType(p.archiveObject)))
	m.HandleFunc("POST "+obj, p.api(false, p.withType(p.createObject)))
	m.HandleFunc("POST "+obj+"/batch/read", p.api(false, p.withType(p.batchRead)))
	m.HandleFunc("POST "+obj+"/batch/create", p.api(false, p.withType(p.batchCreate)))
	m.HandleFunc("POST "+obj+"/batch/update", p.api(false, p.withType(p.batchUpdate)))
	m.HandleFunc("POST "+obj+"/batch/upsert", p.api(false, p.withType(p.batchUpsert)))
	m.HandleFunc("POST "+obj+"/batch/archive", p.api(false, p.withType(p.batchArchive)))
	m.HandleFunc("POST "+obj+"/search", p.api(true, p.withType(p.search)))
	p.associationRoutes()
	p.formRoutes()
	p.emailEventRoutes()
	p.directoryRoutes()
	p.adminRoutes()
}

type typedHandler func(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType)

func (p *Portal) withType(h typedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, ok := objectTypeOf(r.PathValue("type"))
		if !ok {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unable to infer object type from: "+r.PathValue("type"), nil)
			return
		}
		h(w, r, o)
	}
}

// apiSource is the change source of an API call: the app that owns the
// call's bearer token (Config.Apps), else the portal's AppID — so a
// change another integration made is attributed to that integration, as
// HubSpot attributes it (changeSource INTEGRATION, sourceId the app id).
func (p *Portal) apiSource(r *http.Request) source {
	app := p.cfg.AppID
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if id, ok := p.cfg.Apps[token]; ok {
			app = id
		}
	}
	return source{changeSource: "INTEGRATION", sourceID: strconv.FormatInt(app, 10)}
}

// queryList is a list query parameter as HubSpot reads it: repeated
// (properties=a&properties=b, as the client libraries send it) and
// comma-separated (properties=a,b) forms both work, and mix. nil when the
// parameter is absent. (CRM objects v3 reference: "properties — a
// comma separated list of the properties to be returned"; the OpenAPI
// spec declares it an exploded array, which is the repeated form.)
func queryList(q url.Values, key string) []string {
	vals, ok := q[key]
	if !ok {
		return nil
	}
	out := []string{}
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

func statusOf(e *apiError) int {
	switch e.Category {
	case "OBJECT_NOT_FOUND":
		return http.StatusNotFound
	case "CONFLICT":
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func (p *Portal) getObject(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.find(o, r.PathValue("id"), r.URL.Query().Get("idProperty"))
	if r.URL.Query().Get("archived") == "true" {
		// archived=true reads an archived record (and only those).
		rec = p.table(o)[r.PathValue("id")]
		if rec != nil && !rec.archived {
			rec = nil
		}
	}
	if rec == nil {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", map[string][]string{"id": {r.PathValue("id")}})
		return
	}
	out := wire(o, rec, queryList(r.URL.Query(), "properties"))
	p.addAssociations(out, o, rec.id, queryList(r.URL.Query(), "associations"))
	writeJSON(w, http.StatusOK, out)
}

// listObjects is GET /crm/v3/objects/{type}: a page of live (or, with
// archived=true, archived) objects in id order, limit ≤ 100, after = the
// last id seen.
func (p *Portal) listObjects(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	q := r.URL.Query()
	limit := 10
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be between 1 and 100", nil)
			return
		}
		limit = n
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	archived := q.Get("archived") == "true"
	p.mu.Lock()
	defer p.mu.Unlock()
	type idRec struct {
		id  int64
		rec *record
	}
	var recs []idRec
	for _, rec := range p.objects[o] {
		id, _ := strconv.ParseInt(rec.id, 10, 64)
		if rec.archived == archived && id > after {
			recs = append(recs, idRec{id, rec})
		}
	}
	slices.SortFunc(recs, func(a, b idRec) int { return cmp.Compare(a.id, b.id) })
	results := make([]map[string]any, 0, min(limit, len(recs)))
	for _, x := range recs[:min(limit, len(recs))] {
		out := wire(o, x.rec, queryList(q, "properties"))
		p.addAssociations(out, o, x.rec.id, queryList(q, "associations"))
		results = append(results, out)
	}
	body := map[string]any{"results": results}
	if len(recs) > limit {
		next := strconv.FormatInt(recs[limit-1].id, 10)
		body["paging"] = map[string]any{"next": map[string]string{"after": next, "link": "?after=" + next}}
	}
	writeJSON(w, http.StatusOK, body)
}

type objectInput struct {
	ID                 string                     `json:"id"`
	IDProperty         string                     `json:"idProperty"`
	Properties         map[string]string          `json:"properties"`
	Associations       []hubspot.AssociationInput `json:"associations"`
	ObjectWriteTraceID string                     `json:"objectWriteTraceId"`
}

func (p *Portal) createObject(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	var in objectInput
	if !readJSON(w, r, &in) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	links, err := p.createAssociations(o, in.Associations)
	if err == nil {
		var rec *record
		if rec, err = p.create(o, in.Properties, p.apiSource(r)); err == nil {
			p.linkCreated(o, rec.id, links, p.apiSource(r))
			writeJSON(w, http.StatusCreated, wire(o, rec, nil))
			return
		}
	}
	writeJSON(w, statusOf(err), err)
}

func (p *Portal) updateObject(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	var in objectInput
	if !readJSON(w, r, &in) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.find(o, r.PathValue("id"), r.URL.Query().Get("idProperty"))
	if rec == nil {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.", map[string][]string{"id": {r.PathValue("id")}})
		return
	}
	rec, err := p.update(o, rec.id, in.Properties, p.apiSource(r))
	if err != nil {
		writeJSON(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, wire(o, rec, nil))
}

func (p *Portal) archiveObject(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// HubSpot answers 204 for an id that does not exist.
	_ = p.archive(o, r.PathValue("id"), p.apiSource(r))
	w.WriteHeader(http.StatusNoContent)
}

// batchRequest is the body of every batch endpoint.
type batchRequest struct {
	Properties []string      `json:"properties"`
	IDProperty string        `json:"idProperty"`
	Inputs     []objectInput `json:"inputs"`
}

// readBatch decodes a batch body and enforces HubSpot's 100-input cap.
func (p *Portal) readBatch(w http.ResponseWriter, r *http.Request) (batchRequest, bool) {
	var req batchRequest
	if !readJSON(w, r, &req) {
		return req, false
	}
	if len(req.Inputs) > hubspot.MaxBatch {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR",
			"Batch input cannot contain more than 100 inputs; got "+strconv.Itoa(len(req.Inputs)), nil)
		return req, false
	}
	return req, true
}

// batchAnswer writes a batch result. p.mu is held. Results come back in a
// random order: HubSpot does not promise input order.
func (p *Portal) batchAnswer(w http.ResponseWriter, okStatus int, results []map[string]any, errs []*apiError) {
	p.rng.Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
	now := stamp(time.Now())
	body := map[string]any{"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
	if results == nil {
		body["results"] = []any{}
	}
	status := okStatus
	if len(errs) > 0 {
		body["errors"], body["numErrors"], status = errs, len(errs), http.StatusMultiStatus
	}
	writeJSON(w, status, body)
}

func (p *Portal) batchRead(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	req, ok := p.readBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var results []map[string]any
	var missing []string
	for _, in := range req.Inputs {
		if rec := p.find(o, in.ID, req.IDProperty); rec != nil {
			results = append(results, wire(o, rec, req.Properties))
		} else {
			missing = append(missing, in.ID)
		}
	}
	var errs []*apiError
	if len(missing) > 0 {
		errs = append(errs, newAPIError("OBJECT_NOT_FOUND", "Could not get some "+strings.ToUpper(string(o))+
			" objects, they may be deleted or not exist. Check that ids are valid.", map[string][]string{"ids": missing}))
	}
	p.batchAnswer(w, http.StatusOK, results, errs)
}

func (p *Portal) batchCreate(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	req, ok := p.readBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	multi := len(req.Inputs) > 0
	for _, in := range req.Inputs {
		multi = multi && in.ObjectWriteTraceID != ""
	}
	// Without a trace id on every input HubSpot cannot say which input
	// failed: the whole batch is refused and nothing is created.
	if !multi {
		seen := map[string]bool{}
		for _, in := range req.Inputs {
			if err := p.validate(o, nil, in.Properties); err != nil {
				writeJSON(w, statusOf(err), err)
				return
			}
			if _, err := p.createAssociations(o, in.Associations); err != nil {
				writeJSON(w, statusOf(err), err)
				return
			}
			if e := strings.ToLower(in.Properties["email"]); o == crmsync.HSContact && e != "" {
				if seen[e] {
					writeError(w, http.StatusConflict, "CONFLICT", "Duplicate email in batch: "+e, nil)
					return
				}
				seen[e] = true
			}
		}
	}
	var results []map[string]any
	var errs []*apiError
	for _, in := range req.Inputs {
		links, err := p.createAssociations(o, in.Associations)
		var rec *record
		if err == nil {
			rec, err = p.create(o, in.Properties, p.apiSource(r))
		}
		if err != nil {
			err.Context = map[string][]string{"objectWriteTraceId": {in.ObjectWriteTraceID}}
			errs = append(errs, err)
			continue
		}
		p.linkCreated(o, rec.id, links, p.apiSource(r))
		res := wire(o, rec, nil)
		if in.ObjectWriteTraceID != "" {
			res["objectWriteTraceId"] = in.ObjectWriteTraceID
		}
		results = append(results, res)
	}
	p.batchAnswer(w, http.StatusCreated, results, errs)
}

func (p *Portal) batchUpdate(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	req, ok := p.readBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var results []map[string]any
	var errs []*apiError
	for _, in := range req.Inputs {
		rec := p.find(o, in.ID, cmp.Or(in.IDProperty, req.IDProperty))
		if rec == nil {
			errs = append(errs, newAPIError("OBJECT_NOT_FOUND", "Object not found.", map[string][]string{"ids": {in.ID}}))
			continue
		}
		rec, err := p.update(o, rec.id, in.Properties, p.apiSource(r))
		if err != nil {
			err.Context = map[string][]string{"ids": {in.ID}}
			errs = append(errs, err)
			continue
		}
		results = append(results, wire(o, rec, nil))
	}
	p.batchAnswer(w, http.StatusOK, results, errs)
}

func (p *Portal) batchUpsert(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	req, ok := p.readBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var results []map[string]any
	var errs []*apiError
	for _, in := range req.Inputs {
		idProp := cmp.Or(in.IDProperty, req.IDProperty)
		if idProp == "" {
			errs = append(errs, newAPIError("VALIDATION_ERROR", "idProperty is required", map[string][]string{"ids": {in.ID}}))
			continue
		}
		var rec *record
		var err *apiError
		created := false
		if existing := p.find(o, in.ID, idProp); existing != nil {
			rec, err = p.update(o, existing.id, in.Properties, p.apiSource(r))
		} else {
			props := map[string]string{}
			for k, v := range in.Properties {
				props[k] = v
			}
			if idProp != "hs_object_id" {
				props[idProp] = in.ID
			}
			rec, err = p.create(o, props, p.apiSource(r))
			created = true
		}
		if err != nil {
			err.Context = map[string][]string{"ids": {in.ID}}
			errs = append(errs, err)
			continue
		}
		res := wire(o, rec, nil)
		res["new"] = created
		results = append(results, res)
	}
	p.batchAnswer(w, http.StatusOK, results, errs)
}

func (p *Portal) batchArchive(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	req, ok := p.readBatch(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range req.Inputs {
		_ = p.archive(o, in.ID, p.apiSource(r))
	}
	w.WriteHeader(http.StatusNoContent)
}

// search implements the CRM search endpoint with HubSpot's limits: page
// ≤ 200, at most 5 filter groups of 6 filters, one sort, and no page past
// the first 10 000 results.
func (p *Portal) search(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	var req searchRequest
	if !readJSON(w, r, &req) {
		return
	}
	sorts, err := req.sorts()
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error(), nil)
		return
	}
	req.Sorts = nil
	limit := req.Limit
	if limit == 0 {
		limit = 10
	}
	after, _ := strconv.Atoi(cmp.Or(strings.Trim(string(req.After), `"`), "0"))
	switch {
	case limit < 0 || limit > hubspot.MaxSearchLimit:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be between 1 and 200; got "+strconv.Itoa(limit), nil)
		return
	case len(req.FilterGroups) > 5:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "At most 5 filterGroups are allowed", nil)
		return
	case len(sorts) > 1:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Only one sort is allowed", nil)
		return
	case after+limit > hubspot.SearchResultCap:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR",
			"Search can return at most 10,000 results; narrow the query (after="+strconv.Itoa(after)+")", nil)
		return
	}
	for _, g := range req.FilterGroups {
		if len(g.Filters) > 6 {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "At most 6 filters are allowed in a filterGroup", nil)
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var match []*record
	for _, rec := range p.table(o) {
		if !rec.archived && matchesGroups(rec, req.FilterGroups) && matchesQuery(o, rec, req.Query) {
			match = append(match, rec)
		}
	}
	sortProp, desc := "hs_object_id", false
	if len(sorts) == 1 {
		sortProp, desc = sorts[0].PropertyName, sorts[0].Direction == "DESCENDING"
	}
	// Sort keys are parsed once per record, not once per comparison.
	type keyed struct {
		rec *record
		num float64
		isN bool
		str string
	}
	ks := make([]keyed, len(match))
	for i, rec := range match {
		v := rec.props[sortProp]
		n, isN := rec.numeric(sortProp)
		ks[i] = keyed{rec: rec, num: n, isN: isN, str: strings.ToLower(v)}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		var c int
		if a.isN && b.isN {
			c = cmp.Compare(a.num, b.num)
		} else {
			c = strings.Compare(a.str, b.str)
		}
		if desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.rec.tie, b.rec.tie)
	})
	page := ks[min(after, len(ks)):min(after+limit, len(ks))]
	results := make([]map[string]any, 0, len(page))
	for _, k := range page {
		results = append(results, wire(o, k.rec, req.Properties))
	}
	body := map[string]any{"total": len(match), "results": results}
	if after+limit < len(match) {
		next := strconv.Itoa(after + limit)
		body["paging"] = map[string]any{"next": map[string]string{"after": next, "link": "?after=" + next}}
	}
	writeJSON(w, http.StatusOK, body)
}

// searchRequest is PublicObjectSearchRequest as HubSpot reads it, more
// leniently than crmsync's own hubspot.SearchRequest writes it:
//   - sorts items are objects {propertyName, direction} (the search
//     guide) or strings, which @hubspot/api-client's model declares
//     (sorts: Array<string>; HubSpot/hubspot-api-nodejs#559): "name"
//     sorts ascending, "-name" descending. A string HubSpot cannot read
//     as a property is ignored, not refused, as HubSpot ignored the
//     stringified objects the Ruby client sent
//     (HubSpot/hubspot-api-ruby#257).
//   - after is the paging cursor, sent as a string or, by JavaScript
//     callers, as a number (after: 0).
//   - query searches the object's default searchable properties.
type searchRequest struct {
	FilterGroups []hubspot.FilterGroup `json:"filterGroups"`
	Sorts        []json.RawMessage     `json:"sorts"`
	Properties   []string              `json:"properties"`
	Limit        int                   `json:"limit"`
	After        json.RawMessage       `json:"after"`
	Query        string                `json:"query"`
}

func (req *searchRequest) sorts() ([]hubspot.Sort, error) {
	var out []hubspot.Sort
	for _, raw := range req.Sorts {
		var name string
		if json.Unmarshal(raw, &name) == nil {
			desc := strings.HasPrefix(name, "-")
			name = strings.TrimPrefix(name, "-")
			if name == "" || strings.ContainsAny(name, " {}=>\"\t") {
				continue
			}
			dir := "ASCENDING"
			if desc {
				dir = "DESCENDING"
			}
			out = append(out, hubspot.Sort{PropertyName: name, Direction: dir})
			continue
		}
		var s hubspot.Sort
		if err := json.Unmarshal(raw, &s); err != nil || s.PropertyName == "" {
			return nil, fmt.Errorf("invalid sort %s: want {\"propertyName\", \"direction\"} or a property name", raw)
		}
		if s.Direction == "" {
			s.Direction = "ASCENDING"
		}
		if s.Direction != "ASCENDING" && s.Direction != "DESCENDING" {
			return nil, fmt.Errorf("direction must be one of ASCENDING, DESCENDING; got %q", s.Direction)
		}
		out = append(out, s)
	}
	return out, nil
}

// searchable are the default searchable properties a search's query is
// matched against (CRM search guide, "Search default searchable
// properties").
var searchable = map[crmsync.ObjectType][]string{
	crmsync.HSContact: {"firstname", "lastname", "email", "hs_additional_emails", "phone", "mobilephone", "fax", "company"},
	crmsync.HSCompany: {"name", "domain", "website", "phone"},
	crmsync.HSDeal:    {"dealname", "pipeline", "dealstage", "description", "dealtype"},
}

// matchesQuery: every word of the query is the start of a word of one of
// the default searchable properties, case-insensitively (HubSpot matches
// tokens; "ada" finds "Ada Lovelace", "love" does not).
func matchesQuery(o crmsync.ObjectType, rec *record, query string) bool {
	words := strings.Fields(strings.ToLower(query))
	if len(words) == 0 {
		return true
	}
	var tokens []string
	for _, prop := range searchable[o] {
		tokens = append(tokens, strings.FieldsFunc(strings.ToLower(rec.props[prop]), func(r rune) bool {
			return r == ' ' || r == '@' || r == '.' || r == '-' || r == ',' || r == '+'
		})...)
	}
	for _, w := range words {
		w = strings.Trim(w, "*")
		if !slices.ContainsFunc(tokens, func(t string) bool { return strings.HasPrefix(t, w) }) {
			return false
		}
	}
	return true
}

func matchesGroups(rec *record, groups []hubspot.FilterGroup) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range groups {
		if matchesAll(rec, g.Filters) {
			return true
		}
	}
	return false
}

func matchesAll(rec *record, filters []hubspot.Filter) bool {
	for _, f := range filters {
		v, has := rec.props[f.PropertyName]
		has = has && v != ""
		// compareValues with the record's numeric value cached.
		compareValues := func(_, b string) int {
			if x, ok := rec.numeric(f.PropertyName); ok {
				if y, ok := numeric(b); ok {
					return cmp.Compare(x, y)
				}
			}
			return strings.Compare(strings.ToLower(v), strings.ToLower(b))
		}
		var ok bool
		switch f.Operator {
		case "HAS_PROPERTY":
			ok = has
		case "NOT_HAS_PROPERTY":
			ok = !has
		case "EQ":
			ok = has && compareValues(v, f.Value) == 0
		case "NEQ":
			ok = !has || compareValues(v, f.Value) != 0
		case "LT":
			ok = has && compareValues(v, f.Value) < 0
		case "LTE":
			ok = has && compareValues(v, f.Value) <= 0
		case "GT":
			ok = has && compareValues(v, f.Value) > 0
		case "GTE":
			ok = has && compareValues(v, f.Value) >= 0
		case "BETWEEN":
			ok = has && compareValues(v, f.Value) >= 0 && compareValues(v, f.HighValue) <= 0
		case "IN", "NOT_IN":
			in := slices.ContainsFunc(f.Values, func(x string) bool { return compareValues(v, x) == 0 })
			ok = (f.Operator == "IN") == (has && in)
		case "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
			c := has && strings.Contains(strings.ToLower(v), strings.Trim(strings.ToLower(f.Value), "*"))
			ok = (f.Operator == "CONTAINS_TOKEN") == c
		}
		if !ok {
			return false
		}
	}
	return true
}

// compareValues compares as numbers when both are numbers or dates
// (dates as epoch milliseconds, as HubSpot's filters take them), else as
// case-insensitive strings.
func compareValues(a, b string) int {
	x, okA := numeric(a)
	y, okB := numeric(b)
	if okA && okB {
		return cmp.Compare(x, y)
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func numeric(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) {
		return f, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return float64(t.UnixMilli()), true
	}
	return 0, false
}
