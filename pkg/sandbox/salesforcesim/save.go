package salesforcesim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// codeConvertedLead answers a write to, or a reference to, a converted lead.
const codeConvertedLead = "CANNOT_UPDATE_CONVERTED_LEAD"

// apiError is an error the org answers with: a top-level error of a
// single-record call, or one record's error in a collection.
type apiError struct {
	status  int
	Code    string
	Message string
	Fields  []string
	matched []*record
	rule    string // the duplicate rule that matched
}

func errf(status int, code string, fields []string, format string, a ...any) *apiError {
	return &apiError{status: status, Code: code, Message: fmt.Sprintf(format, a...), Fields: fields}
}

// wire returns the error as Salesforce writes it; key is "errorCode" for
// top-level errors and "statusCode" inside collection results.
func (e *apiError) wire(key string) map[string]any {
	fields := e.Fields
	if fields == nil {
		fields = []string{}
	}
	m := map[string]any{key: e.Code, "message": e.Message, "fields": fields}
	if e.Code == salesforce.CodeDuplicatesDetected {
		var recs []map[string]any
		for _, r := range e.matched {
			recs = append(recs, map[string]any{
				"additionalInformation": []any{}, "fieldDiffs": []any{}, "matchConfidence": 100.0,
				"record": map[string]any{"attributes": attributes(r), "Id": r.id()},
			})
		}
		obj := ""
		if len(e.matched) > 0 {
			obj = e.matched[0].obj.Name
		}
		m["duplicateResult"] = map[string]any{
			"allowSave": false, "duplicateRule": cmp.Or(e.rule, "Email_Duplicate_Rule"), "duplicateRuleEntityType": obj,
			"errorMessage": e.Message, "matchResults": []any{map[string]any{
				"entityType": obj, "errors": []any{}, "matchEngine": "ExactMatchEngine",
				"matchRecords": recs, "rule": "Email_Match_Rule", "size": len(recs), "success": true,
			}},
		}
	}
	return m
}

func attributes(r *record) map[string]any {
	return map[string]any{"type": r.obj.Name, "url": "/services/data/" + salesforce.APIVersion + "/sobjects/" + r.obj.Name + "/" + r.id()}
}

// writeOpts are the conditions of one write.
type writeOpts struct {
	user      string
	allowSave bool
	faults    bool // inject faults (REST calls, not admin)
}

// normalize converts a JSON-decoded input value to the stored form for
// field f, or reports why it cannot.
func (o *Org) normalize(f *Field, v any, user string) (any, *apiError) {
	bad := func() *apiError {
		return errf(400, "INVALID_TYPE_ON_FIELD_IN_RECORD", []string{f.Name}, "%s: value not of required type: %v", f.Name, v)
	}
	if v == nil {
		if f.Type == TypeBoolean {
			return false, nil
		}
		return nil, nil
	}
	switch f.Type {
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad()
		}
		return b, nil
	case TypeDouble, TypeCurrency, TypeInt:
		var x float64
		switch n := v.(type) {
		case json.Number:
			f, err := n.Float64()
			if err != nil {
				return nil, bad()
			}
			x = f
		case float64:
			x = n
		case string:
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return nil, bad()
			}
			x = f
		default:
			return nil, bad()
		}
		if f.Type == TypeInt && x != math.Trunc(x) {
			return nil, bad()
		}
		return x, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, bad()
	}
	switch f.Type {
	case TypeDate:
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, bad()
		}
	case TypeDateTime:
		t, err := salesforce.ParseTime(s)
		if err != nil {
			return nil, bad()
		}
		return formatTime(t), nil
	case TypeReference:
		if s == "" {
			return nil, nil
		}
		// The id's key prefix names its type: an id that is no id at all
		// is MALFORMED_ID, one of a type the field does not take
		// FIELD_INTEGRITY_EXCEPTION "Name ID: id value of incorrect type:
		// 001…" (a Task's WhoId given an account, as jsforce issue #1006
		// shows the org answering), one of the right type that does not
		// exist INVALID_CROSS_REFERENCE_KEY.
		if !salesforce.ValidID(s) {
			return nil, errf(400, "MALFORMED_ID", []string{f.Name}, "%s: id value of incorrect type: %s", f.Label0(), s)
		}
		if target, ok := o.objectByPrefix(s[:3]); !ok || !f.refersTo(target.Name) {
			return nil, errf(400, salesforce.CodeFieldIntegrity, []string{f.Name}, "%s: id value of incorrect type: %s", f.Label0(), s)
		}
		r, ok := o.lookup(s)
		if !ok {
			return nil, errf(400, salesforce.CodeInvalidCrossReferenceKey, []string{f.Name}, "%s: id value of incorrect type or not found: %s", f.Name, s)
		}
		if r.deleted {
			return nil, errf(400, salesforce.CodeEntityIsDeleted, []string{f.Name}, "%s: entity is deleted", f.Name)
		}
		if o.access(user, r) == NoAccess {
			return nil, errf(400, salesforce.CodeInsufficientAccessCrossRef, []string{f.Name},
				"insufficient access rights on cross-reference id: %s", s)
		}
		// A converted lead can be read, never referenced again: not as a
		// task's WhoId, not as a new campaign member.
		if r.obj.Name == "Lead" && r.fields["IsConverted"] == true {
			return nil, errf(400, codeConvertedLead, []string{f.Name}, "cannot reference converted lead")
		}
		return r.id(), nil
	}
	if s == "" {
		return nil, nil
	}
	if f.Length > 0 && len([]rune(s)) > f.Length {
		return nil, errf(400, salesforce.CodeStringTooLong, []string{f.Name}, "%s: data value too large: %s (max length=%d)", f.Label0(), s, f.Length)
	}
	if f.Type == TypeEmail && !validEmail(s) {
		return nil, errf(400, salesforce.CodeInvalidEmailAddress, []string{f.Name}, "%s: invalid email address: %s", f.Label0(), s)
	}
	return s, nil
}

// Label0 is the label, or the name when there is none.
func (f *Field) Label0() string {
	if f.Label != "" {
		return f.Label
	}
	return f.Name
}

func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " \t,;<>()") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "@")
}

// prepare checks a create (existing nil) or an update of obj with the
// input fields as opts.user, and returns the record as it would be saved
// and the names of the fields that change.
func (o *Org) prepare(obj *Object, existing *record, in map[string]any, opts writeOpts) (map[string]any, []string, *apiError) {
	create := existing == nil
	if !create {
		switch {
		case existing.deleted:
			return nil, nil, errf(404, salesforce.CodeEntityIsDeleted, nil, "entity is deleted")
		case o.access(opts.user, existing) == NoAccess:
			return nil, nil, errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist")
		case o.access(opts.user, existing) != ReadWrite:
			return nil, nil, errf(403, salesforce.CodeInsufficientAccess, nil, "insufficient access rights on object id")
		case obj.Name == "Lead" && existing.fields["IsConverted"] == true:
			return nil, nil, errf(400, codeConvertedLead, nil, "cannot reference converted lead")
		}
	}
	rec := map[string]any{}
	if !create {
		for k, v := range existing.fields {
			rec[k] = v
		}
	}
	for _, name := range sortedKeys(in) {
		if name == "attributes" || (strings.EqualFold(name, "Id") && !create) {
			continue
		}
		f, ok := obj.Field(name)
		if !ok {
			return nil, nil, errf(400, "INVALID_FIELD", nil, "No such column '%s' on sobject of type %s", name, obj.Name)
		}
		if !f.writable(create) {
			return nil, nil, errf(400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{name},
				"Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", name)
		}
		v, err := o.normalize(f, in[name], opts.user)
		if err != nil {
			return nil, nil, err
		}
		if f.Name == "OwnerId" && v != nil {
			if u, ok := o.lookup(v.(string)); !ok || u.obj.Name != "User" || u.fields["IsActive"] != true {
				return nil, nil, errf(400, salesforce.CodeInvalidCrossReferenceKey, []string{name}, "Owner ID: owner cannot be inactive user")
			}
		}
		rec[f.Name] = v
	}
	if create {
		for _, f := range obj.Fields {
			if _, set := rec[f.Name]; !set && f.Default != nil {
				rec[f.Name] = f.Default
			}
		}
	}
	if err := syncAddress(obj, rec, in); err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, f := range obj.Fields {
		if f.Required && (rec[f.Name] == nil || rec[f.Name] == "") {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, errf(400, salesforce.CodeRequiredFieldMissing, missing, "Required fields are missing: [%s]", strings.Join(missing, ", "))
	}
	for _, f := range obj.Fields {
		if err := o.checkPicklist(obj, f, rec); err != nil {
			return nil, nil, err
		}
		if f.Unique && rec[f.Name] != nil {
			for _, r := range o.records {
				if r.obj == obj && !r.deleted && (existing == nil || r != existing) && strings.EqualFold(fmt.Sprint(r.fields[f.Name]), fmt.Sprint(rec[f.Name])) {
					return nil, nil, errf(400, "DUPLICATE_VALUE", []string{f.Name}, "duplicate value found: %s duplicates value on record with id: %s", f.Name, r.id())
				}
			}
		}
	}
	if err := o.activityRules(obj, existing, rec); err != nil {
		return nil, nil, err
	}
	computeFormulas(obj, rec)
	for _, vr := range o.rules {
		if vr.Object == obj.Name && vr.Fails(rec) {
			var fields []string
			if vr.Field != "" {
				fields = []string{vr.Field}
			}
			return nil, nil, errf(400, salesforce.CodeCustomValidation, fields, "%s", vr.Message)
		}
	}
	for _, dr := range o.dups {
		email, _ := rec["Email"].(string)
		if dr.Object != obj.Name || email == "" || (!dr.Block && opts.allowSave) {
			continue
		}
		var matched []*record
		for _, r := range o.records {
			if r.obj == obj && !r.deleted && (existing == nil || r != existing) && strings.EqualFold(fmt.Sprint(r.fields["Email"]), email) {
				matched = append(matched, r)
			}
		}
		if len(matched) > 0 {
			sortedIDs(matched)
			e := errf(400, salesforce.CodeDuplicatesDetected, nil, "You're creating a duplicate record. We recommend you use an existing record instead.")
			e.matched, e.rule = matched, dr.Name
			return nil, nil, e
		}
	}
	if opts.faults && o.faults.LockRow > 0 && o.rng.Float64() < o.faults.LockRow {
		id := "new record"
		if existing != nil {
			id = existing.id()
		}
		return nil, nil, errf(400, salesforce.CodeUnableToLockRow, nil, "unable to obtain exclusive access to this record or 1 records: %s", id)
	}
	var changed []string
	for _, f := range obj.Fields {
		if f.System || f.Formula != nil {
			continue
		}
		var old any
		if existing != nil {
			old = existing.fields[f.Name]
		}
		if fmt.Sprint(old) != fmt.Sprint(rec[f.Name]) {
			changed = append(changed, f.Name)
		}
	}
	return rec, changed, nil
}

func (o *Org) checkPicklist(obj *Object, f *Field, rec map[string]any) *apiError {
	v, _ := rec[f.Name].(string)
	if f.Type != TypePicklist || v == "" {
		return nil
	}
	isController := false
	for _, g := range obj.Fields {
		if g.Controller == f.Name {
			isController = true
		}
	}
	if f.Controller != "" {
		ctl, _ := rec[f.Controller].(string)
		if ctl == "" {
			return errf(400, salesforce.CodeFieldIntegrity, []string{f.Name},
				"A country/territory must be specified before specifying a state value for field: %s", f.Name)
		}
		for _, s := range f.ValidFor[ctl] {
			if s == v {
				return nil
			}
		}
		return errf(400, salesforce.CodeFieldIntegrity, []string{f.Name},
			"There's a problem with this state, even though it may appear correct. Please select a state from the list of valid states.")
	}
	if !f.Restricted {
		return nil
	}
	for _, p := range f.Picklist {
		if p == v {
			return nil
		}
	}
	if isController {
		return errf(400, salesforce.CodeFieldIntegrity, []string{f.Name},
			"There's a problem with this country, even though it may appear correct. Please select a country/territory from the list of valid countries.")
	}
	return errf(400, salesforce.CodeRestrictedPicklist, []string{f.Name}, "%s: bad value for restricted picklist field: %s", f.Name, v)
}

func computeFormulas(obj *Object, rec map[string]any) {
	for _, f := range obj.Fields {
		if f.Formula != nil {
			rec[f.Name] = f.Formula(rec)
		}
	}
}

// commit saves a prepared record and queues its outbound notifications.
func (o *Org) commit(obj *Object, existing *record, rec map[string]any, changed []string, user string) *record {
	now := formatTime(o.tick())
	created := existing == nil
	if created {
		rec["Id"] = o.newID(obj.Name)
		rec["IsDeleted"] = false
		rec["CreatedDate"] = now
		rec["CreatedById"] = user
		if _, ok := obj.Field("OwnerId"); ok && rec["OwnerId"] == nil {
			rec["OwnerId"] = user
		}
		existing = &record{obj: obj}
		o.records[rec["Id"].(string)] = existing
	}
	if created && obj.Name == "Campaign" {
		defer o.addDefaultMemberStatuses(existing, user)
	}
	rec["LastModifiedDate"] = now
	rec["LastModifiedById"] = user
	rec["SystemModstamp"] = now
	existing.fields = rec
	o.notify(existing, created, changed)
	return existing
}

// save prepares and commits one write.
func (o *Org) save(obj *Object, existing *record, in map[string]any, opts writeOpts) (*record, *apiError) {
	rec, changed, err := o.prepare(obj, existing, in, opts)
	if err != nil {
		return nil, err
	}
	return o.commit(obj, existing, rec, changed, opts.user), nil
}

// remove deletes a record as user.
func (o *Org) remove(id, user string, faults bool) *apiError {
	r, ok := o.lookup(id)
	switch {
	case !ok:
		return errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist")
	case r.deleted:
		return errf(404, salesforce.CodeEntityIsDeleted, nil, "entity is deleted")
	case o.access(user, r) == NoAccess:
		return errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist")
	case o.access(user, r) != ReadWrite:
		return errf(403, salesforce.CodeInsufficientAccess, nil, "insufficient access rights on object id")
	case faults && o.faults.LockRow > 0 && o.rng.Float64() < o.faults.LockRow:
		return errf(400, salesforce.CodeUnableToLockRow, nil, "unable to obtain exclusive access to this record or 1 records: %s", r.id())
	}
	now := o.tick()
	r.deleted, r.deletedAt = true, now
	r.fields["IsDeleted"] = true
	r.fields["SystemModstamp"] = formatTime(now)
	return nil
}

// visibleRecord returns the live record id of type obj ("" = any) that
// user can see, or a NOT_FOUND / ENTITY_IS_DELETED error.
func (o *Org) visibleRecord(obj, id, user string) (*record, *apiError) {
	r, ok := o.lookup(id)
	if !ok || (obj != "" && r.obj.Name != obj) || o.access(user, r) == NoAccess {
		return nil, errf(http.StatusNotFound, salesforce.CodeNotFound, nil, "The requested resource does not exist")
	}
	if r.deleted {
		return nil, errf(http.StatusNotFound, salesforce.CodeEntityIsDeleted, nil, "entity is deleted")
	}
	return r, nil
}

// view returns the record as the REST API shows it: attributes first,
// then the requested fields (all when none are named).
func view(r *record, fields []string) map[string]any {
	out := map[string]any{"attributes": attributes(r)}
	if len(fields) == 0 {
		for _, f := range r.obj.Fields {
			out[f.Name] = r.fields[f.Name]
		}
		return out
	}
	for _, f := range fields {
		out[f] = r.fields[f]
	}
	return out
}

func sortedIDs(rs []*record) []*record {
	sort.Slice(rs, func(i, j int) bool { return rs[i].id() < rs[j].id() })
	return rs
}
