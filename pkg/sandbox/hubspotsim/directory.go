package hubspotsim

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

func (p *Portal) directoryRoutes() {
	p.userRoutes()
	p.listRoutes()
	p.mux.HandleFunc("GET /crm/v3/lists/records/{typeId}/{id}/memberships", p.api(false, p.recordLists))
	p.mux.HandleFunc("GET /crm/v3/lists/{listId}/memberships", p.api(false, p.listMembers))
	p.mux.HandleFunc("GET /crm/v3/lists/{listId}/memberships/join-order", p.api(false, p.listJoins))
	p.mux.HandleFunc("GET /crm/v3/properties/{type}", p.api(false, p.withType(p.properties)))
}

func memberKey(o crmsync.ObjectType, id string) string { return string(o) + "/" + id }

func (p *Portal) recordLists(w http.ResponseWriter, r *http.Request) {
	o, ok := objectTypeOf(r.PathValue("typeId"))
	if !ok {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Unknown object type id "+r.PathValue("typeId"), nil)
		return
	}
	key := memberKey(o, r.PathValue("id"))
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for id, members := range p.lists {
		if _, ok := members[key]; ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	results := []map[string]any{}
	for _, id := range ids {
		at := stamp(p.lists[id][key])
		results = append(results, map[string]any{"listId": id, "listVersion": 1, "firstAddedTimestamp": at, "lastAddedTimestamp": at, "isPublicList": true})
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results, "total": len(results)})
}

// listMembers is GET /crm/v3/lists/{listId}/memberships: the memberships
// ordered by record id, ascending.
func (p *Portal) listMembers(w http.ResponseWriter, r *http.Request) {
	p.listMemberships(w, r, func(_ map[string]time.Time, a, b string) int { return byRecordID(a, b) })
}

// listJoins is GET /crm/v3/lists/{listId}/memberships/join-order: the
// memberships ordered by when they were added (membershipTimestamp, then
// record id).
func (p *Portal) listJoins(w http.ResponseWriter, r *http.Request) {
	p.listMemberships(w, r, func(members map[string]time.Time, a, b string) int {
		if c := members[a].Compare(members[b]); c != 0 {
			return c
		}
		return byRecordID(a, b)
	})
}

// listMemberships answers both memberships endpoints with
// ApiCollectionResponseJoinTimeAndRecordId {results, total, paging}, in
// the given order, paged with an opaque after token — here the position in
// that order, which a later join only extends — and paging.next.after only
// while more results follow. A before token alone pages backwards: the
// records preceding it, in descending order, with paging.prev.before
// while more precede; after takes precedence (lists v3 reference;
// @hubspot/api-client MembershipsApi.getPage and
// getPageOrderedByAddedToListDate).
func (p *Portal) listMemberships(w http.ResponseWriter, r *http.Request, order func(members map[string]time.Time, a, b string) int) {
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("after"))
	offset = max(0, offset)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 250 {
		limit = 100
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	members, ok := p.lists[r.PathValue("listId")]
	if !ok {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "List "+r.PathValue("listId")+" does not exist", nil)
		return
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return order(members, a, b) })
	var page []string
	body := map[string]any{"total": len(keys)}
	if before, err := strconv.Atoi(q.Get("before")); err == nil && q.Get("after") == "" {
		hi := max(0, min(before, len(keys)))
		lo := max(0, hi-limit)
		page = keys[lo:hi]
		slices.Reverse(page)
		if lo > 0 {
			body["paging"] = map[string]any{"prev": map[string]string{"before": strconv.Itoa(lo)}}
		}
	} else {
		lo, hi := min(offset, len(keys)), min(offset+limit, len(keys))
		page = keys[lo:hi]
		if hi < len(keys) {
			body["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(hi)}}
		}
	}
	results := []map[string]any{}
	for _, k := range page {
		_, id, _ := strings.Cut(k, "/")
		results = append(results, map[string]any{"recordId": id, "membershipTimestamp": stamp(members[k])})
	}
	body["results"] = results
	writeJSON(w, http.StatusOK, body)
}

// byRecordID orders two member keys by their numeric record ids, as
// HubSpot sorts recordId (a list holds one object type).
func byRecordID(a, b string) int {
	_, ia, _ := strings.Cut(a, "/")
	_, ib, _ := strings.Cut(b, "/")
	na, _ := strconv.ParseInt(ia, 10, 64)
	nb, _ := strconv.ParseInt(ib, 10, 64)
	if c := cmp.Compare(na, nb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func (p *Portal) properties(w http.ResponseWriter, r *http.Request, o crmsync.ObjectType) {
	p.mu.Lock()
	defer p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"results": p.propsMeta[o]})
}

func prop(name, label, typ, field string, readOnly bool, options ...string) hubspot.Property {
	pr := hubspot.Property{Name: name, Label: label, Type: typ, FieldType: field, GroupName: "sandbox", Options: []hubspot.PropertyOption{}}
	pr.ModificationMetadata.ReadOnlyValue = readOnly
	pr.ModificationMetadata.Archivable = !readOnly
	for i, v := range options {
		pr.Options = append(pr.Options, hubspot.PropertyOption{Label: v, Value: v, DisplayOrder: i})
	}
	return pr
}

func defaultProperties() map[crmsync.ObjectType][]hubspot.Property {
	common := []hubspot.Property{
		prop("hs_object_id", "Record ID", "number", "number", true),
		prop("hubspot_owner_id", "Owner", "enumeration", "select", false),
	}
	out := map[crmsync.ObjectType][]hubspot.Property{
		crmsync.HSContact: append(slices.Clone(common),
			prop("email", "Email", "string", "text", false),
			prop("firstname", "First name", "string", "text", false),
			prop("lastname", "Last name", "string", "text", false),
			prop("phone", "Phone number", "string", "phonenumber", false),
			prop("mobilephone", "Mobile phone number", "string", "phonenumber", false),
			prop("jobtitle", "Job title", "string", "text", false),
			prop("company", "Company name", "string", "text", false),
			prop("website", "Website URL", "string", "text", false),
			prop("address", "Street address", "string", "text", false),
			prop("city", "City", "string", "text", false),
			prop("zip", "Postal code", "string", "text", false),
			prop("state", "State/Region", "string", "text", false),
			prop("country", "Country/Region", "string", "text", false),
			prop("lifecyclestage", "Lifecycle stage", "enumeration", "radio", false, lifecycleOrder...),
			prop("createdate", "Create date", "datetime", "date", true),
			prop("lastmodifieddate", "Last modified date", "datetime", "date", true)),
		crmsync.HSCompany: append(slices.Clone(common),
			prop("name", "Company name", "string", "text", false),
			prop("domain", "Company domain name", "string", "text", false),
			prop("industry", "Industry", "enumeration", "select", false, "Banking", "Manufacturing", "Retail", "Technology"),
			prop("phone", "Phone number", "string", "phonenumber", false),
			prop("website", "Website URL", "string", "text", false),
			prop("address", "Street address", "string", "text", false),
			prop("city", "City", "string", "text", false),
			prop("state", "State/Region", "string", "text", false),
			prop("zip", "Postal code", "string", "text", false),
			prop("country", "Country/Region", "string", "text", false),
			prop("description", "Description", "string", "textarea", false),
			prop("numberofemployees", "Number of employees", "number", "number", false),
			prop("annualrevenue", "Annual revenue", "number", "number", false),
			prop("hs_lastmodifieddate", "Last modified date", "datetime", "date", true)),
		crmsync.HSDeal: append(slices.Clone(common),
			prop("dealname", "Deal name", "string", "text", false),
			prop("amount", "Amount", "number", "number", false),
			prop("pipeline", "Pipeline", "enumeration", "select", false, "default"),
			prop("dealstage", "Deal stage", "enumeration", "radio", false, defaultPipelineStages...),
			prop("closedate", "Close date", "datetime", "date", false),
			prop("description", "Deal description", "string", "textarea", false),
			prop("hs_lastmodifieddate", "Last modified date", "datetime", "date", true)),
	}
	return out
}
