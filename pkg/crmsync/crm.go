package crmsync

import "context"

// CRM is one side's API as the engine uses it. The hubspot and salesforce
// packages provide implementations; crmsynctest has an in-memory fake.
//
// Errors: ErrNotFound (wrapped) when the record does not exist or is not
// visible; otherwise vendor errors that say Transient() (retry later) and,
// when terminal, carry a Category() and the vendor's Code() — see
// VendorError.
type CRM interface {
	// Side is the side this CRM is.
	Side() Side
	// Get reads the current record with the given properties.
	Get(ctx context.Context, ref RecordRef, properties []string) (Record, error)
	// FindByEmail returns the records of object type o whose email is
	// email (case-insensitive), most recently modified first.
	FindByEmail(ctx context.Context, o ObjectType, email string, properties []string) ([]Record, error)
	// Create creates a record and returns it as stored.
	Create(ctx context.Context, o ObjectType, properties map[string]string) (Record, error)
	// Update writes properties to an existing record ("" clears a value).
	Update(ctx context.Context, ref RecordRef, properties map[string]string) error
}

// ListMembership is implemented by CRMs that have static/dynamic lists
// (HubSpot), for the inclusion-list setting.
type ListMembership interface {
	// InList reports whether the record is a member of the list.
	InList(ctx context.Context, listID string, ref RecordRef) (bool, error)
}

// VendorError is what a terminal vendor error tells the engine; vendor
// packages' error types implement it.
type VendorError interface {
	error
	// Category is the sync-error category of the failure.
	Category() Category
	// Code is the vendor's error code (e.g. DUPLICATES_DETECTED).
	Code() string
}

// Owners is implemented by CRMs whose records' owners crmsync maps by the
// owner's user email (Record.OwnerEmail on reads).
type Owners interface {
	// OwnerID returns the user id to write as the owner for the user with
	// that email; ErrNotFound when no active user has it.
	OwnerID(ctx context.Context, email string) (string, error)
	// OwnerProperty names the property holding the owner id on object o.
	OwnerProperty(o ObjectType) string
}

// Update is one record's write in a batch.
type Update struct {
	ID         string
	Properties map[string]string
}

// BatchCRM is implemented by CRMs that read and write many records of one
// object type per call (HubSpot batch endpoints ≤ 100, Salesforce SOQL and
// sObject Collections ≤ 200); the engine uses it to resolve a queue batch
// with few API calls.
type BatchCRM interface {
	// GetMany reads the records with the given ids; ids that do not exist
	// (or are not visible) are absent from the result. An error means
	// nothing was read.
	GetMany(ctx context.Context, o ObjectType, ids []string, properties []string) (map[string]Record, error)
	// UpdateMany writes every update and returns one error per update, in
	// order (nil = written). An error from the call itself means the
	// writes' outcome is unknown.
	UpdateMany(ctx context.Context, o ObjectType, updates []Update) ([]error, error)
}

// Deleter is implemented by CRMs that can delete (HubSpot: archive)
// records, for the "mirror" delete policy. Deleting a record that is
// already gone is not an error.
type Deleter interface {
	Delete(ctx context.Context, ref RecordRef) error
}

// MergeResolver is implemented by CRMs that can tell which record a
// deleted record was merged into (Salesforce: MasterRecordId).
type MergeResolver interface {
	// MergedInto returns the survivor when ref was deleted by a merge; ok
	// is false otherwise.
	MergedInto(ctx context.Context, ref RecordRef) (survivor RecordRef, ok bool, err error)
}

// Associations is implemented by CRMs whose records are associated with
// records of other types (HubSpot: v4 associations), for the associations
// crmsync maps: a contact's primary company ⇄ Contact.AccountId and a
// deal's company ⇄ Opportunity.AccountId.
type Associations interface {
	// Associated returns the ids of the records of type to associated
	// with ref and, among them, the primary one ("" when none is). No
	// association, or a record the CRM does not find, is not an error:
	// both have none.
	Associated(ctx context.Context, ref RecordRef, to ObjectType) (ids []string, primary string, err error)
	// SetPrimary makes c.ToID ref's primary association of type c.To,
	// replacing (removing the association with) the previous primary
	// one; ToID "" removes the primary association. Setting the current
	// primary again changes nothing. Errors are vendor errors; a record
	// that does not exist is a terminal one (category Associations).
	SetPrimary(ctx context.Context, ref RecordRef, c PrimaryChange) error
}

// BatchAssociations is implemented by CRMs that read many records'
// associations in one call (HubSpot v4 batch read ≤ 100 ids), for
// activities resolved in bulk.
type BatchAssociations interface {
	// AssociatedMany returns, for each id of type from, the ids of its
	// associated records of type to; ids with none are absent. An error
	// means nothing was read.
	AssociatedMany(ctx context.Context, from, to ObjectType, ids []string) (map[string][]string, error)
}

// PrimaryChange is a change of a record's primary association.
type PrimaryChange struct {
	To   ObjectType
	ToID string
	// Known says the caller has just read the record's associations
	// (Associated, or the record is new) and Previous is the primary it
	// saw ("" = none), so the CRM need not read them again; otherwise
	// the CRM reads them first.
	Known    bool
	Previous string
}

// ContactRoles is implemented by CRMs whose opportunities have contact
// roles (Salesforce OpportunityContactRole), for lifecycle stages.
type ContactRoles interface {
	// OpportunityOfRole returns the opportunity of a contact role;
	// ErrNotFound when the role does not exist.
	OpportunityOfRole(ctx context.Context, roleID string) (string, error)
	// OpportunityRoles returns whether the opportunity is closed and won
	// and the contacts that have a role on it; ErrNotFound when it does
	// not exist.
	OpportunityRoles(ctx context.Context, opportunityID string) (Roles, error)
}

// Roles is an opportunity's state and the contacts with a role on it.
type Roles struct {
	Closed, Won bool
	ContactIDs  []string
}

// DeletionCheck is implemented by CRMs whose reads leave out records the
// integration user may not see (Salesforce sharing), to tell such a record
// from a deleted one.
type DeletionCheck interface {
	// Deleted reports whether ref was deleted (Salesforce: queryAll finds
	// it with IsDeleted). false means the CRM does not say so: the record
	// exists but the integration user cannot read it — or, rarely, it was
	// purged from the recycle bin.
	Deleted(ctx context.Context, ref RecordRef) (bool, error)
}
