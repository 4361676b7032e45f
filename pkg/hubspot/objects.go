package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// MaxBatch is the most inputs HubSpot takes in one batch call; the client
// splits larger batches.
const MaxBatch = 100

// objectPaths are the CRM v3 path names of the object types.
var objectPaths = map[crmsync.ObjectType]string{
	crmsync.HSContact: "contacts", crmsync.HSCompany: "companies", crmsync.HSDeal: "deals",
	crmsync.HSCall: "calls", crmsync.HSMeeting: "meetings", crmsync.HSNote: "notes",
	crmsync.HSTask: "tasks", crmsync.HSSalesEmail: "emails",
}

// ObjectPath returns the CRM v3 path name of o ("contacts"), or "" when
// o is not a HubSpot CRM object type.
func ObjectPath(o crmsync.ObjectType) string { return objectPaths[o] }

func objectPath(op string, o crmsync.ObjectType) (string, error) {
	p, ok := objectPaths[o]
	if !ok {
		return "", fmt.Errorf("hubspot: %s: %w: no CRM object type %q", op, crmsync.ErrInvalid, o)
	}
	return p, nil
}

// Object is a CRM object as HubSpot returns it. A property HubSpot
// returns as null is "".
type Object struct {
	ID         string
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
	ArchivedAt time.Time
}

type wireObject struct {
	ID                 string             `json:"id"`
	Properties         map[string]*string `json:"properties"`
	CreatedAt          time.Time          `json:"createdAt"`
	UpdatedAt          time.Time          `json:"updatedAt"`
	Archived           bool               `json:"archived"`
	ArchivedAt         *time.Time         `json:"archivedAt,omitempty"`
	ObjectWriteTraceID string             `json:"objectWriteTraceId,omitempty"`
	New                *bool              `json:"new,omitempty"`
}

func (w *wireObject) object() *Object {
	o := &Object{ID: w.ID, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Archived: w.Archived,
		Properties: make(map[string]string, len(w.Properties))}
	for k, v := range w.Properties {
		if v != nil {
			o.Properties[k] = *v
		} else {
			o.Properties[k] = ""
		}
	}
	if w.ArchivedAt != nil {
		o.ArchivedAt = *w.ArchivedAt
	}
	return o
}

// UnmarshalJSON reads HubSpot's object shape.
func (o *Object) UnmarshalJSON(b []byte) error {
	var w wireObject
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*o = *w.object()
	return nil
}

// GetObject reads one object by id, with the given properties.
//
// GET /crm/v3/objects/{objectType}/{objectId}
func (c *Client) GetObject(ctx context.Context, o crmsync.ObjectType, id string, properties []string) (*Object, error) {
	return c.getObject(ctx, o, id, "", properties)
}

// GetObjectBy reads one object by a unique property (idProperty, e.g.
// "email").
//
// GET /crm/v3/objects/{objectType}/{value}?idProperty={idProperty}
func (c *Client) GetObjectBy(ctx context.Context, o crmsync.ObjectType, idProperty, value string, properties []string) (*Object, error) {
	return c.getObject(ctx, o, value, idProperty, properties)
}

func (c *Client) getObject(ctx context.Context, o crmsync.ObjectType, id, idProperty string, properties []string) (*Object, error) {
	op := "get " + string(o) + " " + id
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if len(properties) > 0 {
		q.Set("properties", strings.Join(properties, ","))
	}
	if idProperty != "" {
		q.Set("idProperty", idProperty)
	}
	var w wireObject
	if err := c.do(ctx, call{op: op, method: "GET", path: "crm/v3/objects/" + p + "/" + url.PathEscape(id),
		query: q, out: &w, idempotent: true}); err != nil {
		return nil, err
	}
	return w.object(), nil
}

// CreateObject creates one object.
//
// POST /crm/v3/objects/{objectType}
func (c *Client) CreateObject(ctx context.Context, o crmsync.ObjectType, properties map[string]string, associations []AssociationInput) (*Object, error) {
	op := "create " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	var w wireObject
	body := objectInput{Properties: properties, Associations: associations}
	if err := c.do(ctx, call{op: op, method: "POST", path: "crm/v3/objects/" + p, body: body, out: &w}); err != nil {
		return nil, err
	}
	return w.object(), nil
}

// UpdateObject writes properties of one object ("" clears a value).
//
// PATCH /crm/v3/objects/{objectType}/{objectId}
func (c *Client) UpdateObject(ctx context.Context, o crmsync.ObjectType, id string, properties map[string]string) (*Object, error) {
	op := "update " + string(o) + " " + id
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	var w wireObject
	if err := c.do(ctx, call{op: op, method: "PATCH", path: "crm/v3/objects/" + p + "/" + url.PathEscape(id),
		body: objectInput{Properties: properties}, out: &w, idempotent: true}); err != nil {
		return nil, err
	}
	return w.object(), nil
}

// ArchiveObject archives (deletes) one object.
//
// DELETE /crm/v3/objects/{objectType}/{objectId}
func (c *Client) ArchiveObject(ctx context.Context, o crmsync.ObjectType, id string) error {
	op := "archive " + string(o) + " " + id
	p, err := objectPath(op, o)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: op, method: "DELETE", path: "crm/v3/objects/" + p + "/" + url.PathEscape(id), idempotent: true})
}

// AssociationInput associates a new object at creation.
type AssociationInput struct {
	To    AssociationTarget `json:"to"`
	Types []AssociationType `json:"types"`
}

// AssociationTarget names the other object of an association.
type AssociationTarget struct {
	ID string `json:"id"`
}

// AssociationType is a v4 association type.
type AssociationType struct {
	// Category is HUBSPOT_DEFINED, USER_DEFINED or INTEGRATOR_DEFINED.
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

type objectInput struct {
	ID                 string             `json:"id,omitempty"`
	IDProperty         string             `json:"idProperty,omitempty"`
	Properties         map[string]string  `json:"properties"`
	Associations       []AssociationInput `json:"associations,omitempty"`
	ObjectWriteTraceID string             `json:"objectWriteTraceId,omitempty"`
}

// CreateInput is one object of a batch create.
type CreateInput struct {
	Properties   map[string]string
	Associations []AssociationInput
}

// UpdateInput is one object of a batch update.
type UpdateInput struct {
	ID         string
	Properties map[string]string
}

// UpsertInput is one object of a batch upsert: ID is the value of the
// batch's idProperty (e.g. an email address).
type UpsertInput struct {
	ID         string
	Properties map[string]string
}

// BatchResult is the outcome of one input of a batch call, at the
// input's index.
type BatchResult struct {
	// Object is the object as stored (nil when Err is set).
	Object *Object
	// New is set by upserts that created the object.
	New bool
	// Err is the input's error: an *APIError from HubSpot's 207 errors or
	// from a failed request, or one wrapping ErrNoResult.
	Err error
}

type batchResponse struct {
	Status    string       `json:"status"`
	Results   []wireObject `json:"results"`
	Errors    []wireError  `json:"errors"`
	NumErrors int          `json:"numErrors"`
}

// BatchRead reads objects by id (or by idProperty when not ""), 100 per
// request. Results are at the index of their id; ids HubSpot does not find
// carry an error that errors.Is crmsync.ErrNotFound.
//
// POST /crm/v3/objects/{objectType}/batch/read
func (c *Client) BatchRead(ctx context.Context, o crmsync.ObjectType, ids []string, idProperty string, properties []string) ([]BatchResult, error) {
	op := "batch read " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	if idProperty != "" && !slices.Contains(properties, idProperty) {
		// Results are matched to inputs by this property's value.
		properties = append(slices.Clone(properties), idProperty)
	}
	return c.batch(ctx, op, len(ids), func(lo, hi int) call {
		return call{op: op, method: "POST", path: "crm/v3/objects/" + p + "/batch/read", idempotent: true,
			body: struct {
				Properties []string      `json:"properties"`
				IDProperty string        `json:"idProperty,omitempty"`
				Inputs     []idOnlyInput `json:"inputs"`
			}{Properties: nonNil(properties), IDProperty: idProperty, Inputs: idsOnly(ids[lo:hi])}}
	}, keyMatcher(ids, idProperty))
}

// BatchCreate creates objects, 100 per request. Each input carries an
// objectWriteTraceId (its index), so HubSpot's 207 results and errors map
// back to the inputs.
//
// POST /crm/v3/objects/{objectType}/batch/create
func (c *Client) BatchCreate(ctx context.Context, o crmsync.ObjectType, inputs []CreateInput) ([]BatchResult, error) {
	op := "batch create " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	traces := make([]string, len(inputs))
	for i := range inputs {
		traces[i] = strconv.Itoa(i)
	}
	return c.batch(ctx, op, len(inputs), func(lo, hi int) call {
		in := make([]objectInput, 0, hi-lo)
		for i := lo; i < hi; i++ {
			in = append(in, objectInput{Properties: nonNilMap(inputs[i].Properties), Associations: inputs[i].Associations, ObjectWriteTraceID: traces[i]})
		}
		return call{op: op, method: "POST", path: "crm/v3/objects/" + p + "/batch/create", body: inputsOf(in)}
	}, traceMatcher(traces))
}

// BatchUpdate updates objects by id, 100 per request.
//
// POST /crm/v3/objects/{objectType}/batch/update
func (c *Client) BatchUpdate(ctx context.Context, o crmsync.ObjectType, inputs []UpdateInput) ([]BatchResult, error) {
	op := "batch update " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(inputs))
	for i, in := range inputs {
		ids[i] = in.ID
	}
	return c.batch(ctx, op, len(inputs), func(lo, hi int) call {
		in := make([]objectInput, 0, hi-lo)
		for i := lo; i < hi; i++ {
			in = append(in, objectInput{ID: inputs[i].ID, Properties: nonNilMap(inputs[i].Properties)})
		}
		return call{op: op, method: "POST", path: "crm/v3/objects/" + p + "/batch/update", body: inputsOf(in), idempotent: true}
	}, keyMatcher(ids, ""))
}

// BatchUpsert creates or updates objects by a unique property (idProperty,
// e.g. "email"), 100 per request. BatchResult.New tells which were created.
//
// POST /crm/v3/objects/{objectType}/batch/upsert
func (c *Client) BatchUpsert(ctx context.Context, o crmsync.ObjectType, idProperty string, inputs []UpsertInput) ([]BatchResult, error) {
	op := "batch upsert " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	if idProperty == "" {
		return nil, fmt.Errorf("hubspot: %s: %w: empty idProperty", op, crmsync.ErrInvalid)
	}
	ids := make([]string, len(inputs))
	for i, in := range inputs {
		ids[i] = in.ID
	}
	return c.batch(ctx, op, len(inputs), func(lo, hi int) call {
		in := make([]objectInput, 0, hi-lo)
		for i := lo; i < hi; i++ {
			in = append(in, objectInput{ID: inputs[i].ID, IDProperty: idProperty, Properties: nonNilMap(inputs[i].Properties)})
		}
		return call{op: op, method: "POST", path: "crm/v3/objects/" + p + "/batch/upsert", body: inputsOf(in), idempotent: true}
	}, keyMatcher(ids, idProperty))
}

// BatchArchive archives objects by id, 100 per request. HubSpot answers
// 204 for a whole batch; an error applies to the batch's ids.
//
// POST /crm/v3/objects/{objectType}/batch/archive
func (c *Client) BatchArchive(ctx context.Context, o crmsync.ObjectType, ids []string) error {
	op := "batch archive " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return err
	}
	for lo := 0; lo < len(ids); lo += MaxBatch {
		hi := min(lo+MaxBatch, len(ids))
		if err := c.do(ctx, call{op: op, method: "POST", path: "crm/v3/objects/" + p + "/batch/archive",
			body: inputsOf(idsOnly(ids[lo:hi])), idempotent: true}); err != nil {
			return err
		}
	}
	return nil
}

type idOnlyInput struct {
	ID string `json:"id"`
}

func idsOnly(ids []string) []idOnlyInput {
	out := make([]idOnlyInput, len(ids))
	for i, id := range ids {
		out[i] = idOnlyInput{ID: id}
	}
	return out
}

func inputsOf[T any](in []T) any {
	return struct {
		Inputs []T `json:"inputs"`
	}{in}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// matcher finds the input indexes a result or an error of a batch refers
// to, within [lo, hi).
type matcher struct {
	result func(w *wireObject, lo, hi int) []int
	err    func(e *APIError, lo, hi int) []int
}

// traceMatcher correlates by objectWriteTraceId.
func traceMatcher(traces []string) matcher {
	index := map[string]int{}
	for i, t := range traces {
		index[t] = i
	}
	return matcher{
		result: func(w *wireObject, lo, hi int) []int {
			if i, ok := index[w.ObjectWriteTraceID]; ok && i >= lo && i < hi {
				return []int{i}
			}
			return nil
		},
		err: func(e *APIError, lo, hi int) []int {
			var out []int
			for _, t := range e.Context["objectWriteTraceId"] {
				if i, ok := index[t]; ok && i >= lo && i < hi {
					out = append(out, i)
				}
			}
			return out
		},
	}
}

// keyMatcher correlates by id, or by the value of idProperty (compared
// case-insensitively: HubSpot matches emails that way).
func keyMatcher(keys []string, idProperty string) matcher {
	norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	index := map[string][]int{}
	for i, k := range keys {
		index[norm(k)] = append(index[norm(k)], i)
	}
	pick := func(k string, lo, hi int) []int {
		var out []int
		for _, i := range index[norm(k)] {
			if i >= lo && i < hi {
				out = append(out, i)
			}
		}
		return out
	}
	return matcher{
		result: func(w *wireObject, lo, hi int) []int {
			k := w.ID
			if idProperty != "" && idProperty != "hs_object_id" {
				if v := w.Properties[idProperty]; v != nil {
					k = *v
				}
			}
			return pick(k, lo, hi)
		},
		err: func(e *APIError, lo, hi int) []int {
			var out []int
			for _, vs := range e.Context {
				for _, v := range vs {
					out = append(out, pick(v, lo, hi)...)
				}
			}
			return out
		},
	}
}

// batch runs a batch operation over n inputs in chunks of MaxBatch and
// maps every result and error back to its input. Inputs sharing a key (the
// same id twice) all get the result.
func (c *Client) batch(ctx context.Context, op string, n int, build func(lo, hi int) call, m matcher) ([]BatchResult, error) {
	out := make([]BatchResult, n)
	failed := 0
	for lo := 0; lo < n; lo += MaxBatch {
		hi := min(lo+MaxBatch, n)
		var resp batchResponse
		var status int
		cl := build(lo, hi)
		cl.out, cl.status = &resp, &status
		if err := c.do(ctx, cl); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			for i := lo; i < hi; i++ {
				out[i].Err = err
			}
			failed += hi - lo
			continue
		}
		done := make([]bool, hi-lo)
		for k := range resp.Results {
			w := &resp.Results[k]
			// Never by position: HubSpot does not promise input order.
			for _, i := range m.result(w, lo, hi) {
				if !done[i-lo] {
					done[i-lo] = true
					out[i].Object = w.object()
					out[i].New = w.New != nil && *w.New
				}
			}
		}
		var stray []*APIError
		for k := range resp.Errors {
			e := resp.Errors[k].toAPIError(op, 0)
			is := m.err(e, lo, hi)
			if len(is) == 0 {
				stray = append(stray, e)
			}
			for _, i := range is {
				if !done[i-lo] {
					done[i-lo] = true
					out[i].Err = e
				}
			}
		}
		for i := lo; i < hi; i++ {
			if done[i-lo] {
				continue
			}
			switch {
			case len(stray) > 0:
				// An error HubSpot did not tie to an input: it may be this
				// one's, and it says more than "no result".
				out[i].Err = stray[0]
			default:
				out[i].Err = fmt.Errorf("hubspot: %s: input %d: %w", op, i, ErrNoResult)
			}
		}
		for i := lo; i < hi; i++ {
			if out[i].Err != nil {
				failed++
			}
		}
	}
	if failed > 0 {
		return out, &BatchError{Op: op, Failed: failed, Total: n}
	}
	return out, nil
}
