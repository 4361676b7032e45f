package salesforce

import (
	"context"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// MappingFields returns the fields of object type o in the form type
// compatibility and value conversion use (package mapping), from the
// describe the client reads once per object.
func (c *Client) MappingFields(ctx context.Context, o crmsync.ObjectType) (map[string]mapping.SalesforceField, error) {
	d, err := c.describeCached(ctx, string(o))
	if err != nil {
		return nil, err
	}
	return MappingMetadata(d), nil
}

// MappingMetadata keeps what package mapping needs of a describe; inactive
// picklist values are left out.
func MappingMetadata(d *Describe) map[string]mapping.SalesforceField {
	out := make(map[string]mapping.SalesforceField, len(d.Fields))
	for _, f := range d.Fields {
		mf := mapping.SalesforceField{Name: f.Name, Type: f.Type, Calculated: f.Calculated, Updateable: f.Updateable,
			Nillable: f.Nillable, Length: f.Length, RestrictedPicklist: f.RestrictedPicklist}
		for _, v := range f.PicklistValues {
			if v.Active {
				mf.PicklistValues = append(mf.PicklistValues, v.Value)
			}
		}
		out[f.Name] = mf
	}
	return out
}
