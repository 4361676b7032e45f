package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.CRM = (*Client)(nil)

// Fields every crmsync.Record read through the CRM methods carries.
const (
	modstampField   = "SystemModstamp"
	ownerEmailField = "Owner.Email"
)

// Side is crmsync.Salesforce.
func (c *Client) Side() crmsync.Side { return crmsync.Salesforce }

// Get reads the current record with the given fields and its owner's
// email in one SOQL query (crmsync.CRM). A record that does not exist, is
// deleted or is not visible to the integration user is crmsync.ErrNotFound.
func (c *Client) Get(ctx context.Context, ref crmsync.RecordRef, properties []string) (crmsync.Record, error) {
	if !ValidID(ref.ID) {
		return crmsync.Record{}, fmt.Errorf("salesforce: get %s: %w: bad id %q", ref, crmsync.ErrInvalid, ref.ID)
	}
	soql, err := selectSOQL(ref.Object, properties, "Id = "+QuoteSOQL(ref.ID), "")
	if err != nil {
		return crmsync.Record{}, err
	}
	res, err := c.Query(ctx, soql)
	if err != nil {
		return crmsync.Record{}, err
	}
	if len(res.Records) == 0 {
		return crmsync.Record{}, fmt.Errorf("salesforce: get %s: %w", ref, crmsync.ErrNotFound)
	}
	return toRecord(ref.Object, res.Records[0]), nil
}

// FindByEmail returns the leads or contacts whose Email is email (SOQL
// compares it case-insensitively), most recently modified first, at most
// 200 (crmsync.CRM). Other object types are crmsync.ErrInvalid.
func (c *Client) FindByEmail(ctx context.Context, o crmsync.ObjectType, email string, properties []string) ([]crmsync.Record, error) {
	if o != crmsync.SFLead && o != crmsync.SFContact {
		return nil, fmt.Errorf("salesforce: find %s by email: %w: only leads and contacts have an email", o, crmsync.ErrInvalid)
	}
	soql, err := selectSOQL(o, append(append([]string{}, properties...), "Email"), "Email = "+QuoteSOQL(email), " ORDER BY SystemModstamp DESC LIMIT 200")
	if err != nil {
		return nil, err
	}
	res, err := c.Query(ctx, soql)
	if err != nil {
		return nil, err
	}
	out := make([]crmsync.Record, 0, len(res.Records))
	for _, r := range res.Records {
		out = append(out, toRecord(o, r))
	}
	return out, nil
}

// Create creates a record and reads it back in one composite call
// (crmsync.CRM). Values are converted to the fields' types (see Update);
// empty values are left out.
func (c *Client) Create(ctx context.Context, o crmsync.ObjectType, properties map[string]string) (crmsync.Record, error) {
	fields, err := c.typedFields(ctx, o, properties, false)
	if err != nil {
		return crmsync.Record{}, err
	}
	names := make([]string, 0, len(properties))
	for k := range properties {
		names = append(names, k)
	}
	soql, err := selectSOQL(o, names, "Id = '@{NewRecord.id}'", "")
	if err != nil {
		return crmsync.Record{}, err
	}
	// The reference must stay literal in the URL for Salesforce to
	// resolve it, so only the text around it is escaped.
	before, after, _ := strings.Cut(soql, "@{NewRecord.id}")
	res, err := c.Composite(ctx, []Subrequest{
		{Method: "POST", URL: "sobjects/" + string(o), ReferenceID: "NewRecord", Body: fields},
		{Method: "GET", URL: "query?q=" + url.QueryEscape(before) + "@{NewRecord.id}" + url.QueryEscape(after), ReferenceID: "ReadBack"},
	})
	if err != nil {
		return crmsync.Record{}, err
	}
	if err := res[0].Err(); err != nil {
		return crmsync.Record{}, err
	}
	if err := res[1].Err(); err != nil {
		return crmsync.Record{}, err
	}
	var q QueryResult
	if err := json.Unmarshal(res[1].Body, &q); err != nil || len(q.Records) != 1 {
		return crmsync.Record{}, fmt.Errorf("salesforce: create %s: read back: %d records, %v", o, len(q.Records), err)
	}
	return toRecord(o, q.Records[0]), nil
}

// Update writes properties to a record (crmsync.CRM). Values are text as
// crmsync keeps them and are converted with the object's describe (read
// once per client and object): booleans to true/false, numbers to
// numbers; "" clears the field.
func (c *Client) Update(ctx context.Context, ref crmsync.RecordRef, properties map[string]string) error {
	fields, err := c.typedFields(ctx, ref.Object, properties, true)
	if err != nil {
		return err
	}
	return c.UpdateRecord(ctx, string(ref.Object), ref.ID, fields)
}

func selectSOQL(o crmsync.ObjectType, properties []string, where, tail string) (string, error) {
	seen := map[string]bool{"Id": true, modstampField: true, ownerEmailField: true}
	fields := []string{"Id", modstampField}
	for _, p := range properties {
		if !validName(p) {
			return "", fmt.Errorf("salesforce: query %s: %w: bad field name %q", o, crmsync.ErrInvalid, p)
		}
		if !seen[p] {
			seen[p] = true
			fields = append(fields, p)
		}
	}
	if !validName(string(o)) {
		return "", fmt.Errorf("salesforce: query: %w: bad object %q", crmsync.ErrInvalid, o)
	}
	if o != crmsync.SFCampaignMember {
		fields = append(fields, ownerEmailField)
	}
	return "SELECT " + strings.Join(fields, ", ") + " FROM " + string(o) + " WHERE " + where + tail, nil
}

func toRecord(o crmsync.ObjectType, r Record) crmsync.Record {
	rec := crmsync.Record{
		Ref:        crmsync.RecordRef{Side: crmsync.Salesforce, Object: o, ID: r.ID},
		Properties: make(map[string]string, len(r.Fields)),
	}
	for k, v := range r.Fields {
		if owner, ok := v.(map[string]any); ok && k == "Owner" {
			rec.OwnerEmail, _ = owner["Email"].(string)
			continue
		}
		if k == modstampField {
			continue
		}
		rec.Properties[k] = r.Text(k)
	}
	if t, err := ParseTime(r.Text(modstampField)); err == nil {
		rec.LastModified = t
	}
	return rec
}

// typedFields converts text values to the JSON types of the fields.
func (c *Client) typedFields(ctx context.Context, o crmsync.ObjectType, properties map[string]string, clear bool) (map[string]any, error) {
	d, err := c.describeCached(ctx, string(o))
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(properties))
	for name, v := range properties {
		if v == "" {
			if clear {
				out[name] = nil
			}
			continue
		}
		f, _ := d.Field(name)
		switch f.Type {
		case "boolean":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("salesforce: %s.%s: %w: %q is not a boolean", o, name, crmsync.ErrInvalid, v)
			}
			out[name] = b
		case "double", "currency", "percent", "int", "long":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("salesforce: %s.%s: %w: %q is not a number", o, name, crmsync.ErrInvalid, v)
			}
			out[name] = json.Number(v)
		default:
			out[name] = v
		}
	}
	return out, nil
}

func (c *Client) describeCached(ctx context.Context, object string) (*Describe, error) {
	c.mu.Lock()
	d := c.described[object]
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := c.Describe(ctx, object)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.described == nil {
		c.described = map[string]*Describe{}
	}
	c.described[object] = d
	c.mu.Unlock()
	return d, nil
}
