package salesforce

import (
	"context"
	"fmt"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

var _ crmsync.MergeResolver = (*Client)(nil)

// MergedInto reports the survivor of a record a merge deleted
// (crmsync.MergeResolver): Lead, Contact and Account records deleted by a
// merge keep MasterRecordId, readable with queryAll until the recycle bin
// is emptied. ok is false for a record that was not merged away.
func (c *Client) MergedInto(ctx context.Context, ref crmsync.RecordRef) (crmsync.RecordRef, bool, error) {
	switch ref.Object {
	case crmsync.SFLead, crmsync.SFContact, crmsync.SFAccount:
	default:
		return crmsync.RecordRef{}, false, nil
	}
	if !ValidID(ref.ID) {
		return crmsync.RecordRef{}, false, fmt.Errorf("salesforce: merged into: %w: bad id %q", crmsync.ErrInvalid, ref.ID)
	}
	res, err := c.QueryAll(ctx, "SELECT Id, IsDeleted, MasterRecordId FROM "+string(ref.Object)+" WHERE Id = "+QuoteSOQL(ref.ID))
	if err != nil {
		return crmsync.RecordRef{}, false, err
	}
	if len(res.Records) == 0 || res.Records[0].Text("IsDeleted") != "true" {
		return crmsync.RecordRef{}, false, nil
	}
	master := res.Records[0].Text("MasterRecordId")
	if master == "" {
		return crmsync.RecordRef{}, false, nil
	}
	return crmsync.RecordRef{Side: crmsync.Salesforce, Object: ref.Object, ID: master}, true, nil
}

var _ crmsync.DeletionCheck = (*Client)(nil)

// Deleted reports whether ref is in the recycle bin (crmsync.DeletionCheck):
// queryAll finds it with IsDeleted true. A record the integration user
// cannot see is found by neither query nor queryAll.
func (c *Client) Deleted(ctx context.Context, ref crmsync.RecordRef) (bool, error) {
	if !ValidID(ref.ID) || !validName(string(ref.Object)) {
		return false, fmt.Errorf("salesforce: deleted: %w: bad ref %s", crmsync.ErrInvalid, ref)
	}
	res, err := c.QueryAll(ctx, "SELECT Id, IsDeleted FROM "+string(ref.Object)+" WHERE Id = "+QuoteSOQL(ref.ID))
	if err != nil {
		return false, err
	}
	return len(res.Records) > 0 && res.Records[0].Text("IsDeleted") == "true", nil
}
