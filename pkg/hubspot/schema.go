package hubspot

import (
	"context"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// MappingProperties returns the properties of object type o in the form
// type compatibility and value conversion use (package mapping), read once
// per client (a Lambda container's life): property definitions change
// rarely, and each read is an API call.
func (c *Client) MappingProperties(ctx context.Context, o crmsync.ObjectType) (map[string]mapping.HubSpotProperty, error) {
	c.mu.Lock()
	m, ok := c.schema[o]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	props, err := c.Properties(ctx, o)
	if err != nil {
		return nil, err
	}
	m = MappingMetadata(props)
	c.mu.Lock()
	c.schema[o] = m
	c.mu.Unlock()
	return m, nil
}

// MappingMetadata keeps what package mapping needs of properties.
// Property does not carry referencedObjectType, so user properties are
// recognised by name (mapping.HubSpotProperty.UserType).
func MappingMetadata(props []Property) map[string]mapping.HubSpotProperty {
	out := make(map[string]mapping.HubSpotProperty, len(props))
	for _, p := range props {
		mp := mapping.HubSpotProperty{Name: p.Name, Type: p.Type, FieldType: p.FieldType, ReadOnly: p.ReadOnly()}
		for _, o := range p.Options {
			mp.Options = append(mp.Options, o.Value)
		}
		out[p.Name] = mp
	}
	return out
}
