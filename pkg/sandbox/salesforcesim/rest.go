package salesforcesim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

const dataRoot = "/services/data/" + salesforce.APIVersion + "/"

// maxBody caps request bodies.
const maxBody = 16 << 20

// ServeHTTP serves the REST API under /services/data/v62.0/, the token
// endpoint /services/oauth2/token and the admin API under /admin/. Mount
// it under a prefix with http.StripPrefix.
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/services/oauth2/token":
		o.serveToken(w, r)
	case strings.HasPrefix(p, "/admin/"):
		o.serveAdmin(w, r)
	case strings.HasPrefix(p, "/services/data/"):
		o.serveAPI(w, r)
	default:
		writeJSON(w, http.StatusNotFound, []any{errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist").wire("errorCode")})
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(r, maxBody))
	dec.UseNumber()
	return dec.Decode(v)
}

// call is one REST call inside the org (a request, or a composite
// sub-request).
type call struct {
	method    string
	segments  []string // path segments after /services/data/v62.0/, unescaped
	query     url.Values
	body      []byte
	user      string
	allowSave bool
	// batchSize is the query batch size the Sforce-Query-Options header
	// asked for (0 = the org's default).
	batchSize int
}

func (o *Org) serveAPI(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	faults := o.faults
	o.mu.Unlock()
	if faults.Latency > 0 {
		time.Sleep(faults.Latency)
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	o.mu.Lock()
	used := o.usedLocked()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, o.cfg.DailyLimit))
	user, ok := o.sessions[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		o.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, []any{map[string]any{"message": "Session expired or invalid", "errorCode": salesforce.CodeInvalidSessionID}})
		return
	}
	if used >= o.cfg.DailyLimit {
		o.mu.Unlock()
		writeJSON(w, http.StatusForbidden, []any{map[string]any{"message": "TotalRequests Limit exceeded.", "errorCode": salesforce.CodeRequestLimitExceeded}})
		return
	}
	o.usage[o.cfg.Now().Unix()/60]++
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used+1, o.cfg.DailyLimit))
	drop := faults.Drop > 0 && o.rng.Float64() < faults.Drop
	hang := faults.Timeout > 0 && o.rng.Float64() < faults.Timeout
	unavailable := faults.ServerError > 0 && o.rng.Float64() < faults.ServerError
	o.mu.Unlock()
	if drop {
		panic(http.ErrAbortHandler)
	}
	if hang {
		<-r.Context().Done()
		return
	}
	if unavailable {
		writeJSON(w, http.StatusServiceUnavailable, []any{map[string]any{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), dataRoot)
	if !ok {
		writeJSON(w, http.StatusNotFound, []any{errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist").wire("errorCode")})
		return
	}
	c := call{method: r.Method, segments: splitPath(rest), query: r.URL.Query(), body: body, user: user,
		allowSave: strings.Contains(strings.ReplaceAll(r.Header.Get("Sforce-Duplicate-Rule-Header"), " ", ""), "allowSave=true"),
		batchSize: queryBatchSize(r.Header.Get("Sforce-Query-Options"))}
	status, out := o.dispatch(c)
	writeJSON(w, status, out)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if u, err := url.PathUnescape(s); err == nil {
			parts[i] = u
		}
	}
	return parts
}

func fail(e *apiError) (int, any) {
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	return status, []any{e.wire("errorCode")}
}

// dispatch runs one call and returns the status and the JSON body.
func (o *Org) dispatch(c call) (int, any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := c.segments
	notFound := errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist")
	switch {
	case len(s) == 1 && s[0] == "limits" && c.method == http.MethodGet:
		return o.limits()
	case len(s) >= 1 && (s[0] == "query" || s[0] == "queryAll") && c.method == http.MethodGet:
		if len(s) == 2 {
			return o.queryMore(s[1], c.user)
		}
		return o.query(c.query.Get("q"), c.user, s[0] == "queryAll", c.batchSize)
	case len(s) == 1 && s[0] == "composite" && c.method == http.MethodPost:
		o.mu.Unlock()
		defer o.mu.Lock()
		return o.composite(c)
	case len(s) == 3 && s[0] == "composite" && s[1] == "sobjects" && (c.method == http.MethodPost || c.method == http.MethodGet):
		return o.retrieveMany(s[2], c)
	case len(s) >= 2 && s[0] == "composite" && s[1] == "sobjects":
		return o.collection(c)
	case len(s) == 1 && s[0] == "sobjects" && c.method == http.MethodGet:
		return http.StatusOK, o.describeGlobal()
	case len(s) >= 2 && s[0] == "sobjects":
		obj, ok := o.objectNamed(s[1])
		if !ok {
			return fail(errf(404, "NOT_FOUND", nil, "The requested resource does not exist"))
		}
		switch {
		case len(s) == 2 && c.method == http.MethodPost:
			var in map[string]any
			if err := decodeJSON(bytes.NewReader(c.body), &in); err != nil {
				return fail(errf(400, "JSON_PARSER_ERROR", nil, "%v", err))
			}
			r, e := o.save(obj, nil, in, writeOpts{user: c.user, allowSave: c.allowSave, faults: true})
			if e != nil {
				return fail(e)
			}
			return http.StatusCreated, map[string]any{"id": r.id(), "success": true, "errors": []any{}}
		case len(s) == 3 && s[2] == "describe" && c.method == http.MethodGet:
			return http.StatusOK, describe(obj)
		case len(s) == 3 && (s[2] == "updated" || s[2] == "deleted") && c.method == http.MethodGet:
			return o.replication(obj, s[2], c)
		case len(s) == 3:
			return o.recordCall(obj, s[2], c)
		case len(s) == 4 && c.method == http.MethodPatch:
			var in map[string]any
			if err := decodeJSON(bytes.NewReader(c.body), &in); err != nil {
				return fail(errf(400, "JSON_PARSER_ERROR", nil, "%v", err))
			}
			res, e := o.upsert(obj, s[2], s[3], in, writeOpts{user: c.user, allowSave: c.allowSave, faults: true})
			if e != nil {
				return fail(e)
			}
			if multi, ok := res.([]string); ok {
				return http.StatusMultipleChoices, multi
			}
			m := res.(map[string]any)
			if m["created"] == true {
				return http.StatusCreated, m
			}
			return http.StatusOK, m
		}
	}
	return fail(notFound)
}

func (o *Org) recordCall(obj *Object, id string, c call) (int, any) {
	switch c.method {
	case http.MethodGet:
		r, e := o.visibleRecord(obj.Name, id, c.user)
		if e != nil {
			return fail(e)
		}
		var fields []string
		if f := c.query.Get("fields"); f != "" {
			for _, name := range strings.Split(f, ",") {
				if _, ok := obj.Field(name); !ok {
					return fail(errf(400, "INVALID_FIELD", nil, "No such column '%s' on sobject of type %s", name, obj.Name))
				}
				fields = append(fields, name)
			}
		}
		return http.StatusOK, view(r, fields)
	case http.MethodPatch:
		r, ok := o.lookup(id)
		if !ok || r.obj != obj {
			return fail(errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist"))
		}
		var in map[string]any
		if err := decodeJSON(bytes.NewReader(c.body), &in); err != nil {
			return fail(errf(400, "JSON_PARSER_ERROR", nil, "%v", err))
		}
		if _, e := o.save(obj, r, in, writeOpts{user: c.user, allowSave: c.allowSave, faults: true}); e != nil {
			return fail(e)
		}
		return http.StatusNoContent, nil
	case http.MethodDelete:
		if r, ok := o.lookup(id); ok && r.obj != obj {
			return fail(errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist"))
		}
		if e := o.remove(id, c.user, true); e != nil {
			return fail(e)
		}
		return http.StatusNoContent, nil
	}
	return fail(errf(405, "METHOD_NOT_ALLOWED", nil, "HTTP Method '%s' not allowed", c.method))
}

// upsert returns the upsert result map, or the matching records' URLs
// (a []string) when several records have the external id.
func (o *Org) upsert(obj *Object, extField, value string, in map[string]any, opts writeOpts) (any, *apiError) {
	f, ok := obj.Field(extField)
	if !ok || !(f.ExternalID || extField == "Id") {
		return nil, errf(404, "NOT_FOUND", nil, "Provided external ID field does not exist or is not accessible: %s", extField)
	}
	var matches []*record
	for _, r := range o.records {
		if r.obj == obj && !r.deleted && strings.EqualFold(fmt.Sprint(r.fields[extField]), value) {
			matches = append(matches, r)
		}
	}
	sortedIDs(matches)
	switch len(matches) {
	case 0:
		in2 := map[string]any{extField: value}
		for k, v := range in {
			in2[k] = v
		}
		r, e := o.save(obj, nil, in2, opts)
		if e != nil {
			return nil, e
		}
		return map[string]any{"id": r.id(), "success": true, "errors": []any{}, "created": true}, nil
	case 1:
		if _, e := o.save(obj, matches[0], in, opts); e != nil {
			return nil, e
		}
		return map[string]any{"id": matches[0].id(), "success": true, "errors": []any{}, "created": false}, nil
	}
	var urls []string
	for _, r := range matches {
		urls = append(urls, attributes(r)["url"].(string))
	}
	return urls, nil
}

type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// collection serves sObject Collections create, update, upsert and delete.
func (o *Org) collection(c call) (int, any) {
	var req collectionRequest
	var ids []string
	if c.method == http.MethodDelete {
		ids = strings.Split(c.query.Get("ids"), ",")
		req.AllOrNone = c.query.Get("allOrNone") == "true"
		for _, id := range ids {
			req.Records = append(req.Records, map[string]any{"Id": id})
		}
	} else if err := decodeJSON(bytes.NewReader(c.body), &req); err != nil {
		return fail(errf(400, "JSON_PARSER_ERROR", nil, "%v", err))
	}
	if len(req.Records) > 200 {
		return fail(errf(400, "EXCEEDED_ID_LIMIT", nil, "record limit reached. cannot submit more than 200 records into this call"))
	}
	var upsertObj *Object
	var extField string
	if len(c.segments) == 4 && c.method == http.MethodPatch {
		upsertObj, extField = o.schema[c.segments[2]], c.segments[3]
		if upsertObj == nil {
			return fail(errf(404, "NOT_FOUND", nil, "The requested resource does not exist"))
		}
	} else if len(c.segments) != 2 {
		return fail(errf(404, "NOT_FOUND", nil, "The requested resource does not exist"))
	}
	opts := writeOpts{user: c.user, allowSave: c.allowSave, faults: true}
	results := make([]map[string]any, len(req.Records))
	type pending struct {
		obj      *Object
		existing *record
		rec      map[string]any
		changed  []string
	}
	staged := make([]*pending, len(req.Records))
	failed := false
	for i, in := range req.Records {
		var e *apiError
		var p *pending
		idv, _ := fieldValue(in, "Id")
		id, _ := idv.(string)
		attrs, _ := in["attributes"].(map[string]any)
		typ, _ := attrs["type"].(string)
		switch c.method {
		case http.MethodDelete:
			if req.AllOrNone {
				if _, e = o.visibleRecord("", id, c.user); e == nil {
					p = &pending{}
				}
			} else if e = o.remove(id, c.user, true); e == nil {
				results[i] = map[string]any{"id": id, "success": true, "errors": []any{}}
			}
		case http.MethodPost, http.MethodPatch:
			obj := o.schema[typ]
			switch {
			case obj == nil:
				e = errf(400, "INVALID_TYPE", nil, "sObject type '%s' is not supported.", typ)
			case upsertObj != nil:
				if obj != upsertObj {
					e = errf(400, "INVALID_TYPE", nil, "record type %s does not match %s", typ, upsertObj.Name)
					break
				}
				v, _ := fieldValue(in, extField)
				value := fmt.Sprint(v)
				delete(in, "attributes")
				var res any
				res, e = o.upsert(obj, extField, value, in, opts)
				if multi, ok := res.([]string); ok {
					e = errf(300, salesforce.CodeDuplicateExternalID, []string{extField}, "%s: more than one record found for external id field: %v", extField, multi)
				} else if e == nil {
					results[i] = res.(map[string]any)
				}
			case c.method == http.MethodPost:
				if id != "" {
					e = errf(400, "INVALID_FIELD", []string{"Id"}, "cannot specify Id in an insert call")
					break
				}
				var rec map[string]any
				var changed []string
				if rec, changed, e = o.prepare(obj, nil, in, opts); e == nil {
					p = &pending{obj: obj, rec: rec, changed: changed}
				}
			default:
				r, ok := o.lookup(id)
				if !ok || r.obj != obj {
					e = errf(404, "INVALID_ID_FIELD", nil, "invalid record id")
					break
				}
				var rec map[string]any
				var changed []string
				if rec, changed, e = o.prepare(obj, r, in, opts); e == nil {
					p = &pending{obj: obj, existing: r, rec: rec, changed: changed}
				}
			}
		}
		if e != nil {
			failed = true
			results[i] = map[string]any{"success": false, "errors": []any{e.wire("statusCode")}}
			if c.method == http.MethodDelete || c.method == http.MethodPatch && upsertObj == nil {
				results[i]["id"] = id
			}
			continue
		}
		if p != nil && !req.AllOrNone {
			results[i] = o.commitPending(c.method, id, p.obj, p.existing, p.rec, p.changed, c.user)
		}
		staged[i] = p
	}
	if req.AllOrNone {
		for i, p := range staged {
			switch {
			case failed && p != nil:
				results[i] = map[string]any{"success": false, "errors": []any{errf(400, salesforce.CodeAllOrNoneRolledBack, nil,
					"Record rolled back because not all records were valid and the request was using AllOrNone header").wire("statusCode")}}
			case !failed && p != nil:
				id, _ := fieldValue(req.Records[i], "Id")
				results[i] = o.commitPending(c.method, fmt.Sprint(id), p.obj, p.existing, p.rec, p.changed, c.user)
			}
		}
	}
	return http.StatusOK, results
}

func (o *Org) commitPending(method, id string, obj *Object, existing *record, rec map[string]any, changed []string, user string) map[string]any {
	if method == http.MethodDelete {
		if e := o.remove(id, user, false); e != nil {
			return map[string]any{"id": id, "success": false, "errors": []any{e.wire("statusCode")}}
		}
		return map[string]any{"id": id, "success": true, "errors": []any{}}
	}
	r := o.commit(obj, existing, rec, changed, user)
	return map[string]any{"id": r.id(), "success": true, "errors": []any{}}
}

// replication serves getUpdated and getDeleted.
func (o *Org) replication(obj *Object, kind string, c call) (int, any) {
	start, err1 := salesforce.ParseTime(c.query.Get("start"))
	end, err2 := salesforce.ParseTime(c.query.Get("end"))
	if err1 != nil || err2 != nil {
		return fail(errf(400, "MALFORMED_QUERY", nil, "start and end must be date-times"))
	}
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	now := o.cfg.Now().UTC()
	window := 30 * 24 * time.Hour
	if kind == "deleted" {
		window = 15 * 24 * time.Hour
	}
	if !end.After(start) || start.Before(now.Add(-window).Truncate(time.Minute)) {
		return fail(errf(400, salesforce.CodeInvalidReplicationDate, nil, "startDate must chronologically precede endDate and be within %d days of today", int(window.Hours()/24)))
	}
	latest := end
	if latest.After(now) {
		latest = now.Truncate(time.Minute)
	}
	inWindow := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	if kind == "updated" {
		ids := []string{}
		for _, id := range sortedKeys(o.records) {
			r := o.records[id]
			t, _ := salesforce.ParseTime(fmt.Sprint(r.fields["SystemModstamp"]))
			if r.obj == obj && !r.deleted && o.access(c.user, r) != NoAccess && inWindow(t) {
				ids = append(ids, id)
			}
		}
		return http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": formatTime(latest)}
	}
	deleted := []any{}
	for _, id := range sortedKeys(o.records) {
		r := o.records[id]
		if r.obj == obj && r.deleted && o.access(c.user, r) != NoAccess && inWindow(r.deletedAt) {
			deleted = append(deleted, map[string]any{"id": id, "deletedDate": formatTime(r.deletedAt)})
		}
	}
	return http.StatusOK, map[string]any{"deletedRecords": deleted,
		"earliestDateAvailable": formatTime(now.Add(-window).Truncate(time.Minute)), "latestDateCovered": formatTime(latest)}
}

func (o *Org) limits() (int, any) {
	used := o.usedLocked()
	max := o.cfg.DailyLimit
	return http.StatusOK, map[string]any{
		"DailyApiRequests": map[string]any{"Max": max, "Remaining": max - used,
			"Salesforce CLI": map[string]any{"Max": 0, "Remaining": 0},
			"crmsync":        map[string]any{"Max": 0, "Remaining": 0}},
		"DailyBulkApiBatches": map[string]any{"Max": 15000, "Remaining": 15000},
		"DataStorageMB":       map[string]any{"Max": 5, "Remaining": 5},
	}
}

func describe(obj *Object) map[string]any {
	var fields []any
	for _, f := range obj.Fields {
		var picks []any
		if f.Controller != "" {
			// validFor has bit j set when the value is valid with the
			// controller's j-th value.
			ctl, _ := obj.Field(f.Controller)
			seen := map[string]bool{}
			for _, country := range ctl.Picklist {
				for _, state := range f.ValidFor[country] {
					if seen[state] {
						continue
					}
					seen[state] = true
					bits := make([]byte, (len(ctl.Picklist)+7)/8)
					for j, c := range ctl.Picklist {
						if slices.Contains(f.ValidFor[c], state) {
							bits[j/8] |= 0x80 >> (j % 8)
						}
					}
					picks = append(picks, map[string]any{"active": true, "defaultValue": false, "label": state, "value": state,
						"validFor": base64.StdEncoding.EncodeToString(bits)})
				}
			}
		}
		for _, p := range f.Picklist {
			picks = append(picks, map[string]any{"active": true, "defaultValue": f.Default == p, "label": p, "value": p, "validFor": nil})
		}
		if picks == nil {
			picks = []any{}
		}
		refs := []string{}
		if f.ReferenceTo != "" {
			refs = strings.Split(f.ReferenceTo, ",")
		}
		var formula any
		if f.FormulaText != "" {
			formula = f.FormulaText
		}
		var controller any
		if f.Controller != "" {
			controller = f.Controller
		}
		fields = append(fields, map[string]any{
			"name": f.Name, "label": f.Label0(), "type": f.Type, "length": f.Length,
			"calculated": f.Formula != nil, "calculatedFormula": formula,
			"createable": f.writable(true), "updateable": f.writable(false),
			"nillable":          !f.Required && f.Type != TypeBoolean && f.Name != "Id",
			"defaultedOnCreate": f.System || f.Default != nil || f.Type == TypeBoolean || f.Name == "OwnerId",
			"externalId":        f.ExternalID, "unique": f.Unique,
			"restrictedPicklist": f.Restricted || f.Controller != "", "dependentPicklist": f.Controller != "",
			"controllerName": controller, "picklistValues": picks, "referenceTo": refs,
		})
	}
	return map[string]any{"name": obj.Name, "label": obj.Name, "keyPrefix": obj.KeyPrefix,
		"createable": obj.Name != "User", "updateable": obj.Name != "User", "queryable": true, "fields": fields}
}

// queryBatchSize reads batchSize from a Sforce-Query-Options header
// ("batchSize=500"). The REST API Developer Guide (Query Options Header):
// the default is 2,000, the minimum 200, the maximum 2,000, and the batch
// answered may be smaller than asked; values out of range are clamped.
func queryBatchSize(header string) int {
	for _, opt := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		if !strings.EqualFold(k, "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0
		}
		return min(max(n, 200), 2000)
	}
	return 0
}

// retrieveMany is the sObject Collections retrieve: POST
// /composite/sobjects/{type} with {"ids": [...], "fields": [...]}, or GET
// with ?ids=…&fields=… (REST API Developer Guide, "Get Multiple Records
// with Fewer Round-Trips"). It answers an array in the order of ids with
// null for an id that is not found (or not visible), at most 2,000 ids,
// and fields is required. jsforce's retrieve of several ids calls it.
func (o *Org) retrieveMany(object string, c call) (int, any) {
	obj, ok := o.objectNamed(object)
	if !ok {
		return fail(errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist"))
	}
	var req struct {
		IDs    []string `json:"ids"`
		Fields []string `json:"fields"`
	}
	if c.method == http.MethodGet {
		req.IDs = splitList(c.query.Get("ids"))
		req.Fields = splitList(c.query.Get("fields"))
	} else if err := decodeJSON(bytes.NewReader(c.body), &req); err != nil {
		return fail(errf(400, "JSON_PARSER_ERROR", nil, "%v", err))
	}
	switch {
	case len(req.IDs) == 0:
		return fail(errf(400, "INVALID_FIELD", nil, "ids must be set"))
	case len(req.IDs) > 2000:
		return fail(errf(400, "EXCEEDED_ID_LIMIT", nil, "too many ids: %d (at most 2000)", len(req.IDs)))
	case len(req.Fields) == 0:
		return fail(errf(400, "INVALID_FIELD", nil, "fields must be set"))
	}
	for _, f := range req.Fields {
		if _, ok := obj.Field(f); !ok {
			return fail(errf(400, "INVALID_FIELD", nil, "No such column '%s' on sobject of type %s", f, obj.Name))
		}
	}
	out := make([]any, len(req.IDs))
	for i, id := range req.IDs {
		if !salesforce.ValidID(id) {
			return fail(errf(400, "MALFORMED_ID", []string{"Id"}, "invalid ID: %s", id))
		}
		if r, e := o.visibleRecord(obj.Name, id, c.user); e == nil {
			out[i] = view(r, req.Fields)
		}
	}
	return http.StatusOK, out
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// describeGlobal is GET /sobjects (Describe Global): the org's sObject
// types with their key prefixes, abilities and URLs.
func (o *Org) describeGlobal() map[string]any {
	var sobjects []any
	for _, name := range sortedKeys(o.schema) {
		obj := o.schema[name]
		writable := obj.Name != "User"
		base := dataRoot + "sobjects/" + obj.Name
		sobjects = append(sobjects, map[string]any{
			"name": obj.Name, "label": obj.Name, "labelPlural": obj.Name + "s", "keyPrefix": obj.KeyPrefix,
			"custom": strings.HasSuffix(obj.Name, "__c"), "createable": writable, "updateable": writable, "deletable": writable,
			"queryable": true, "retrieveable": true, "searchable": true, "triggerable": true, "replicateable": true,
			"layoutable": true, "undeletable": writable,
			"urls": map[string]string{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
		})
	}
	return map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}
}
