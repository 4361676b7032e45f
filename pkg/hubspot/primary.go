package hubspot

import (
	"context"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.Associations = (*Client)(nil)
var _ crmsync.BatchAssociations = (*Client)(nil)

// AssociatedMany returns each id's associated ids of type to
// (crmsync.BatchAssociations): one v4 batch read per 100 ids.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read
func (c *Client) AssociatedMany(ctx context.Context, from, to crmsync.ObjectType, ids []string) (map[string][]string, error) {
	m, err := c.BatchReadAssociations(ctx, from, to, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(m))
	for id, as := range m {
		for _, a := range as {
			out[id] = append(out[id], a.ToID)
		}
	}
	return out, nil
}

// associationTypes are the HUBSPOT_DEFINED types crmsync writes per pair:
// the "Primary" label and the unlabelled type HubSpot gives every
// association of the pair.
var associationTypes = map[[2]crmsync.ObjectType]struct{ primary, unlabelled int }{
	{crmsync.HSContact, crmsync.HSCompany}: {primary: 1, unlabelled: 279},
	{crmsync.HSDeal, crmsync.HSCompany}:    {primary: 5, unlabelled: 341},
}

// Associated returns the ids of the records of type to associated with
// ref, and the primary one (crmsync.Associations): the one labelled
// Primary (contact→company type 1, deal→company type 5) or, when none is
// labelled and there is exactly one, that one — HubSpot shows a record's
// only company as its primary. Other pairs have no primary. One v4 batch
// read (plus a page per further 500 associations); nothing is cached. A
// record with no associations, or none HubSpot finds, has none.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read
func (c *Client) Associated(ctx context.Context, ref crmsync.RecordRef, to crmsync.ObjectType) ([]string, string, error) {
	m, err := c.BatchReadAssociations(ctx, ref.Object, to, []string{ref.ID})
	if err != nil {
		return nil, "", err
	}
	types, labelled := associationTypes[[2]crmsync.ObjectType{ref.Object, to}]
	var ids []string
	primary := ""
	for _, a := range m[ref.ID] {
		ids = append(ids, a.ToID)
		for _, l := range a.Types {
			if labelled && l.Category == "HUBSPOT_DEFINED" && l.TypeID == types.primary {
				primary = a.ToID
			}
		}
	}
	if labelled && primary == "" && len(ids) == 1 {
		primary = ids[0]
	}
	return ids, primary, nil
}

// SetPrimary makes c.ToID ref's primary record of type c.To
// (crmsync.Associations): unless c.Known, it reads the current
// associations; it creates the association with the Primary label and the
// unlabelled type, and removes the association with the previous primary
// record; ToID "" only removes that. Setting the current primary changes
// nothing. Only contact→company and deal→company have a primary; other
// pairs are crmsync.ErrInvalid.
//
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create
// POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive
func (c *Client) SetPrimary(ctx context.Context, ref crmsync.RecordRef, ch crmsync.PrimaryChange) error {
	to, toID := ch.To, ch.ToID
	types, ok := associationTypes[[2]crmsync.ObjectType{ref.Object, to}]
	if !ok {
		return fmt.Errorf("hubspot: set primary %s of %s: %w: the pair has no primary association", to, ref, crmsync.ErrInvalid)
	}
	primary := ch.Previous
	if !ch.Known {
		var err error
		if _, primary, err = c.Associated(ctx, ref, to); err != nil {
			return err
		}
	}
	if primary == toID {
		return nil
	}
	if toID != "" {
		err := c.CreateAssociations(ctx, ref.Object, to, []AssociationPair{{FromID: ref.ID, ToID: toID, Types: []AssociationType{
			{Category: "HUBSPOT_DEFINED", TypeID: types.primary}, {Category: "HUBSPOT_DEFINED", TypeID: types.unlabelled}}}})
		if err != nil {
			return err
		}
	}
	if primary != "" {
		return c.DeleteAssociations(ctx, ref.Object, to, []AssociationPair{{FromID: ref.ID, ToID: primary}})
	}
	return nil
}
