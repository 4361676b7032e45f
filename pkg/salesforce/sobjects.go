package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Record is an sObject record as the REST API sends it: its type (from
// attributes.type), its Id and the other fields. Field values are decoded
// JSON — string, json.Number, bool, nil, or map[string]any for compound
// and relationship fields. A nil value written clears the field.
type Record struct {
	Type   string
	ID     string
	Fields map[string]any
}

// Text returns a field value in its wire text form: strings as they are,
// numbers as sent, booleans "true"/"false", null and absent "".
func (r Record) Text(field string) string {
	switch v := r.Fields[field].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// MarshalJSON writes {"attributes":{"type":…},"Id":…, fields…}; attributes
// and Id are left out when empty.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	put := func(k string, v any) error {
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
		b.Write(vb)
		return nil
	}
	if r.Type != "" {
		_ = put("attributes", map[string]string{"type": r.Type})
	}
	if r.ID != "" {
		_ = put("Id", r.ID)
	}
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		if k != "Id" && k != "attributes" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := put(k, r.Fields[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a record; numbers stay json.Number.
func (r *Record) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*r = Record{Fields: m}
	if a, ok := m["attributes"].(map[string]any); ok {
		r.Type, _ = a["type"].(string)
	}
	delete(m, "attributes")
	if id, ok := m["Id"].(string); ok {
		r.ID = id
	}
	delete(m, "Id")
	return nil
}

// validName reports whether s is a safe API name (sObject or field):
// letters, digits and underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func checkNames(op string, names ...string) error {
	for _, n := range names {
		if !validName(n) {
			return fmt.Errorf("salesforce: %s: %w: bad API name %q", op, crmsync.ErrInvalid, n)
		}
	}
	return nil
}

func checkID(op, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("salesforce: %s: %w: bad record id %q", op, crmsync.ErrInvalid, id)
	}
	return nil
}

// saveResult is the answer of a single-record create or upsert and an
// element of a collection answer.
type saveResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Created *bool       `json:"created"`
	Errors  []wireError `json:"errors"`
}

// GetRecord reads one record, only the given fields when any are named.
// A missing or invisible record is an *APIError matching crmsync.ErrNotFound.
//
// GET /services/data/vXX.X/sobjects/{sobject}/{id}?fields=…
func (c *Client) GetRecord(ctx context.Context, sobject, id string, fields ...string) (*Record, error) {
	if err := checkNames("get record", append([]string{sobject}, fields...)...); err != nil {
		return nil, err
	}
	if err := checkID("get record", id); err != nil {
		return nil, err
	}
	var q url.Values
	if len(fields) > 0 {
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	var r Record
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "sobjects/" + sobject + "/" + id, query: q}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CreateRecord creates a record and returns its id.
//
// POST /services/data/vXX.X/sobjects/{sobject}/
func (c *Client) CreateRecord(ctx context.Context, sobject string, fields map[string]any) (string, error) {
	if err := checkNames("create record", sobject); err != nil {
		return "", err
	}
	var res saveResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "sobjects/" + sobject + "/", body: fields}, &res); err != nil {
		return "", err
	}
	if !res.Success || res.ID == "" {
		return "", fmt.Errorf("salesforce: create %s: %w", sobject, firstRecordError(res.Errors))
	}
	return res.ID, nil
}

// UpdateRecord sets the given fields of a record (nil clears a field).
//
// PATCH /services/data/vXX.X/sobjects/{sobject}/{id}
func (c *Client) UpdateRecord(ctx context.Context, sobject, id string, fields map[string]any) error {
	if err := checkNames("update record", sobject); err != nil {
		return err
	}
	if err := checkID("update record", id); err != nil {
		return err
	}
	_, err := c.do(ctx, request{method: http.MethodPatch, path: "sobjects/" + sobject + "/" + id, body: fields}, nil)
	return err
}

// UpsertResult is the outcome of an upsert.
type UpsertResult struct {
	ID      string
	Created bool
}

// UpsertRecord creates or updates the record whose external id field
// extField equals value. More than one match is an *APIError with code
// DUPLICATE_EXTERNAL_ID listing the matched ids.
//
// PATCH /services/data/vXX.X/sobjects/{sobject}/{extField}/{value}
func (c *Client) UpsertRecord(ctx context.Context, sobject, extField, value string, fields map[string]any) (UpsertResult, error) {
	if err := checkNames("upsert record", sobject, extField); err != nil {
		return UpsertResult{}, err
	}
	if value == "" {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert record: %w: empty external id", crmsync.ErrInvalid)
	}
	var res saveResult
	status, err := c.do(ctx, request{method: http.MethodPatch,
		path: "sobjects/" + sobject + "/" + extField + "/" + url.PathEscape(value), body: fields}, &res)
	if err != nil {
		return UpsertResult{}, err
	}
	if status != http.StatusNoContent && !res.Success {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert %s: %w", sobject, firstRecordError(res.Errors))
	}
	created := status == http.StatusCreated
	if res.Created != nil {
		created = *res.Created
	}
	return UpsertResult{ID: res.ID, Created: created}, nil
}

// DeleteRecord deletes a record.
//
// DELETE /services/data/vXX.X/sobjects/{sobject}/{id}
func (c *Client) DeleteRecord(ctx context.Context, sobject, id string) error {
	if err := checkNames("delete record", sobject); err != nil {
		return err
	}
	if err := checkID("delete record", id); err != nil {
		return err
	}
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "sobjects/" + sobject + "/" + id}, nil)
	return err
}

func firstRecordError(errs []wireError) *RecordError {
	if len(errs) == 0 {
		return &RecordError{StatusCode: "UNKNOWN_ERROR", Message: "the result reported no success and no error"}
	}
	return errs[0].recordError()
}
