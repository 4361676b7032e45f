package salesforce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// Describe is the metadata of one sObject type.
type Describe struct {
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	KeyPrefix  string          `json:"keyPrefix"`
	Createable bool            `json:"createable"`
	Updateable bool            `json:"updateable"`
	Queryable  bool            `json:"queryable"`
	Fields     []FieldDescribe `json:"fields"`
}

// Field returns the named field's description.
func (d *Describe) Field(name string) (FieldDescribe, bool) {
	for _, f := range d.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldDescribe{}, false
}

// FieldDescribe is the metadata of one field.
type FieldDescribe struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Type is the field type: string, email, phone, picklist,
	// multipicklist, boolean, double, currency, date, datetime, reference,
	// textarea, id, …
	Type   string `json:"type"`
	Length int    `json:"length"`
	// Calculated marks formula (and roll-up) fields: read-only, never a
	// sync target.
	Calculated        bool   `json:"calculated"`
	CalculatedFormula string `json:"calculatedFormula"`
	Createable        bool   `json:"createable"`
	Updateable        bool   `json:"updateable"`
	Nillable          bool   `json:"nillable"`
	DefaultedOnCreate bool   `json:"defaultedOnCreate"`
	ExternalID        bool   `json:"externalId"`
	Unique            bool   `json:"unique"`
	// RestrictedPicklist: values outside PicklistValues are refused
	// (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST).
	RestrictedPicklist bool `json:"restrictedPicklist"`
	DependentPicklist  bool `json:"dependentPicklist"`
	// ControllerName is the controlling field of a dependent picklist
	// (CountryCode for the StateCode of a State/Country picklist).
	ControllerName string          `json:"controllerName"`
	PicklistValues []PicklistValue `json:"picklistValues"`
	ReferenceTo    []string        `json:"referenceTo"`
}

// Required reports whether a create must set the field: createable, not
// nillable and not defaulted.
func (f FieldDescribe) Required() bool {
	return f.Createable && !f.Nillable && !f.DefaultedOnCreate
}

// PicklistValue is one value of a picklist field.
type PicklistValue struct {
	Value        string `json:"value"`
	Label        string `json:"label"`
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
	// ValidFor is the base64 bitmap of the controlling field's values
	// (by index) this value is valid for; see ValidForIndex.
	ValidFor string `json:"validFor"`
}

// ValidForIndex reports whether the value is valid when the controlling
// field has its i-th picklist value (for a State code: the i-th country).
// Values of independent picklists are valid for every index.
func (v PicklistValue) ValidForIndex(i int) bool {
	if v.ValidFor == "" {
		return true
	}
	bits, err := base64.StdEncoding.DecodeString(v.ValidFor)
	if err != nil || i < 0 || i/8 >= len(bits) {
		return false
	}
	return bits[i/8]&(0x80>>(i%8)) != 0
}

// Describe returns the metadata of an sObject type.
//
// GET /services/data/vXX.X/sobjects/{sobject}/describe
func (c *Client) Describe(ctx context.Context, sobject string) (*Describe, error) {
	if err := checkNames("describe", sobject); err != nil {
		return nil, err
	}
	var d Describe
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "sobjects/" + sobject + "/describe"}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Limit is one org limit; PerApp holds the per-connected-app entries some
// limits (DailyApiRequests) carry, keyed by app name.
type Limit struct {
	Max       int64
	Remaining int64
	PerApp    map[string]Limit
}

// Used is Max - Remaining.
func (l Limit) Used() int64 { return l.Max - l.Remaining }

// UnmarshalJSON reads Max and Remaining and every object-valued key as a
// per-app entry; other keys are ignored.
func (l *Limit) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*l = Limit{}
	for k, v := range m {
		switch k {
		case "Max":
			if err := json.Unmarshal(v, &l.Max); err != nil {
				return fmt.Errorf("limit Max: %w", err)
			}
		case "Remaining":
			if err := json.Unmarshal(v, &l.Remaining); err != nil {
				return fmt.Errorf("limit Remaining: %w", err)
			}
		default:
			if len(v) == 0 || v[0] != '{' {
				continue
			}
			var app Limit
			if err := json.Unmarshal(v, &app); err != nil {
				return fmt.Errorf("limit %s: %w", k, err)
			}
			if l.PerApp == nil {
				l.PerApp = map[string]Limit{}
			}
			l.PerApp[k] = app
		}
	}
	return nil
}

// Limits returns the org's limits keyed by name (DailyApiRequests, …).
//
// GET /services/data/vXX.X/limits
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var m map[string]Limit
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "limits"}, &m); err != nil {
		return nil, err
	}
	return m, nil
}
