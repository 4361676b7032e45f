package crmsynctest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// CRM is a concurrency-safe in-memory crmsync.CRM for engine tests. Ids
// are "<object>-<n>". Fail, when set, is called before every operation and
// its error returned instead (fault injection). Calls counts every call by
// operation name.
type CRM struct {
	side crmsync.Side
	now  func() time.Time

	mu        sync.Mutex
	records   map[crmsync.RecordRef]crmsync.Record
	lists     map[string]map[string]bool
	next      int
	calls     map[string]int
	writes    []Write
	users     map[string]string // owner id → email
	assocs    map[assocKey]*assocSet
	merges    map[crmsync.RecordRef]crmsync.RecordRef // loser → survivor
	roles     map[string][2]string                    // contact role id → opportunity id, contact id
	campaigns map[string]*campaign

	// Fail injects errors: op is "get", "find", "create", "update",
	// "associated" or "setprimary" (and the others named by their methods).
	Fail func(op string, ref crmsync.RecordRef) error
}

// Write is one Create or Update the fake received.
type Write struct {
	Op         string
	Ref        crmsync.RecordRef
	Properties map[string]string
}

var _ crmsync.CRM = (*CRM)(nil)
var _ crmsync.ListMembership = (*CRM)(nil)
var _ crmsync.Owners = (*CRM)(nil)
var _ crmsync.BatchCRM = (*CRM)(nil)
var _ crmsync.Deleter = (*CRM)(nil)
var _ crmsync.Associations = (*CRM)(nil)
var _ crmsync.MergeResolver = (*CRM)(nil)
var _ crmsync.ContactRoles = (*CRM)(nil)
var _ crmsync.BatchAssociations = (*CRM)(nil)
var _ crmsync.BatchCreator = (*CRM)(nil)

// OwnerProperty is the property the fake takes owner ids in: writing it
// sets the record's OwnerEmail to that user's email.
const OwnerProperty = "owner_id"

// NewCRM returns an empty fake of side s; now stamps modifications (nil =
// time.Now).
func NewCRM(s crmsync.Side, now func() time.Time) *CRM {
	if now == nil {
		now = time.Now
	}
	return &CRM{side: s, now: now, records: map[crmsync.RecordRef]crmsync.Record{},
		lists: map[string]map[string]bool{}, calls: map[string]int{}, users: map[string]string{},
		assocs: map[assocKey]*assocSet{}, merges: map[crmsync.RecordRef]crmsync.RecordRef{}, roles: map[string][2]string{}}
}

// AddRole gives contactID a contact role on opportunityID and returns the
// role's id (as a Salesforce user adding an OpportunityContactRole).
func (c *CRM) AddRole(opportunityID, contactID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := fmt.Sprintf("%s-%d", crmsync.SFContactRole, c.next)
	c.roles[id] = [2]string{opportunityID, contactID}
	return id
}

// OpportunityOfRole implements crmsync.ContactRoles.
func (c *CRM) OpportunityOfRole(ctx context.Context, roleID string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("roles", crmsync.RecordRef{Side: c.side, Object: crmsync.SFContactRole, ID: roleID}); err != nil {
		return "", err
	}
	r, ok := c.roles[roleID]
	if !ok {
		return "", fmt.Errorf("role %s: %w", roleID, crmsync.ErrNotFound)
	}
	return r[0], nil
}

// OpportunityRoles implements crmsync.ContactRoles: IsClosed and IsWon
// are the opportunity record's properties.
func (c *CRM) OpportunityRoles(ctx context.Context, opportunityID string) (crmsync.Roles, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ref := crmsync.RecordRef{Side: c.side, Object: crmsync.SFOpportunity, ID: opportunityID}
	if err := c.fail("roles", ref); err != nil {
		return crmsync.Roles{}, err
	}
	rec, ok := c.records[ref]
	if !ok || rec.Archived {
		return crmsync.Roles{}, fmt.Errorf("opportunity %s: %w", opportunityID, crmsync.ErrNotFound)
	}
	out := crmsync.Roles{Closed: rec.Properties["IsClosed"] == "true", Won: rec.Properties["IsWon"] == "true"}
	ids := make([]string, 0, len(c.roles))
	for id := range c.roles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if r := c.roles[id]; r[0] == opportunityID {
			out.ContactIDs = append(out.ContactIDs, r[1])
		}
	}
	return out, nil
}

// Merge merges loser into survivor as a user would: loser is deleted and
// MergedInto names survivor (as Salesforce's MasterRecordId does).
func (c *CRM) Merge(loser, survivor crmsync.RecordRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.records, loser)
	c.merges[loser] = survivor
}

// MergedInto implements crmsync.MergeResolver.
func (c *CRM) MergedInto(ctx context.Context, ref crmsync.RecordRef) (crmsync.RecordRef, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("mergedinto", ref); err != nil {
		return crmsync.RecordRef{}, false, err
	}
	s, ok := c.merges[ref]
	return s, ok, nil
}

// Side implements crmsync.CRM.
func (c *CRM) Side() crmsync.Side { return c.side }

func (c *CRM) fail(op string, ref crmsync.RecordRef) error {
	c.calls[op]++
	if c.Fail != nil {
		return c.Fail(op, ref)
	}
	return nil
}

// Get implements crmsync.CRM.
func (c *CRM) Get(ctx context.Context, ref crmsync.RecordRef, properties []string) (crmsync.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("get", ref); err != nil {
		return crmsync.Record{}, err
	}
	r, ok := c.records[ref]
	if !ok || r.Archived {
		return crmsync.Record{}, fmt.Errorf("fake %s: get %s: %w", c.side, ref, crmsync.ErrNotFound)
	}
	return clone(r), nil
}

// FindByEmail implements crmsync.CRM (property "email" on HubSpot, "Email"
// on Salesforce).
func (c *CRM) FindByEmail(ctx context.Context, o crmsync.ObjectType, email string, properties []string) ([]crmsync.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("find", crmsync.RecordRef{Side: c.side, Object: o}); err != nil {
		return nil, err
	}
	var out []crmsync.Record
	for ref, r := range c.records {
		if ref.Object == o && !r.Archived && email != "" && strings.EqualFold(r.Properties[c.emailProperty()], email) {
			out = append(out, clone(r))
		}
	}
	slices.SortFunc(out, func(a, b crmsync.Record) int { return b.LastModified.Compare(a.LastModified) })
	return out, nil
}

func (c *CRM) emailProperty() string {
	if c.side == crmsync.HubSpot {
		return "email"
	}
	return "Email"
}

// Create implements crmsync.CRM.
func (c *CRM) Create(ctx context.Context, o crmsync.ObjectType, properties map[string]string) (crmsync.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("create", crmsync.RecordRef{Side: c.side, Object: o}); err != nil {
		return crmsync.Record{}, err
	}
	c.next++
	ref := crmsync.RecordRef{Side: c.side, Object: o, ID: fmt.Sprintf("%s-%d", o, c.next)}
	r := crmsync.Record{Ref: ref, Properties: copyProps(properties), LastModified: c.now()}
	c.setOwner(&r)
	c.records[ref] = r
	c.writes = append(c.writes, Write{Op: "create", Ref: ref, Properties: copyProps(properties)})
	return clone(r), nil
}

// CreateMany implements crmsync.BatchCreator: one "createmany" call; the
// records are created as Create creates them ("create" faults apply to
// each record).
func (c *CRM) CreateMany(ctx context.Context, o crmsync.ObjectType, records []map[string]string) ([]crmsync.CreateResult, error) {
	c.mu.Lock()
	if err := c.fail("createmany", crmsync.RecordRef{Side: c.side, Object: o}); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()
	out := make([]crmsync.CreateResult, len(records))
	for i, props := range records {
		r, err := c.Create(ctx, o, props)
		out[i] = crmsync.CreateResult{ID: r.Ref.ID, Err: err}
	}
	return out, nil
}

// Update implements crmsync.CRM.
func (c *CRM) Update(ctx context.Context, ref crmsync.RecordRef, properties map[string]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("update", ref); err != nil {
		return err
	}
	r, ok := c.records[ref]
	if !ok || r.Archived {
		return fmt.Errorf("fake %s: update %s: %w", c.side, ref, crmsync.ErrNotFound)
	}
	for k, v := range properties {
		r.Properties[k] = v
	}
	c.setOwner(&r)
	r.LastModified = c.now()
	c.records[ref] = r
	c.writes = append(c.writes, Write{Op: "update", Ref: ref, Properties: copyProps(properties)})
	return nil
}

// setOwner moves a written owner id into OwnerEmail. Caller holds mu.
func (c *CRM) setOwner(r *crmsync.Record) {
	if id, ok := r.Properties[OwnerProperty]; ok {
		r.OwnerEmail = c.users[id]
		delete(r.Properties, OwnerProperty)
	}
}

// AddUser adds a user who can own records and returns its id.
func (c *CRM) AddUser(email string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := fmt.Sprintf("user-%d", len(c.users)+1)
	c.users[id] = email
	return id
}

// OwnerID implements crmsync.Owners.
func (c *CRM) OwnerID(ctx context.Context, email string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("owner", crmsync.RecordRef{Side: c.side}); err != nil {
		return "", err
	}
	for id, e := range c.users {
		if strings.EqualFold(e, email) {
			return id, nil
		}
	}
	return "", fmt.Errorf("fake %s: user %s: %w", c.side, email, crmsync.ErrNotFound)
}

// OwnerProperty implements crmsync.Owners.
func (c *CRM) OwnerProperty(o crmsync.ObjectType) string { return OwnerProperty }

// SetOwner changes a record's owner as a user would.
func (c *CRM) SetOwner(ref crmsync.RecordRef, email string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.records[ref]
	r.OwnerEmail = email
	r.LastModified = c.now()
	c.records[ref] = r
}

// InList implements crmsync.ListMembership.
func (c *CRM) InList(ctx context.Context, listID string, ref crmsync.RecordRef) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("list", ref); err != nil {
		return false, err
	}
	return c.lists[listID][ref.ID], nil
}

// Put stores a record as a user would (LastModified set to now when zero);
// it is not counted as a write.
func (c *CRM) Put(r crmsync.Record) crmsync.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.LastModified.IsZero() {
		r.LastModified = c.now()
	}
	r.Ref.Side = c.side
	r.Properties = copyProps(r.Properties)
	c.records[r.Ref] = r
	return clone(r)
}

// Edit changes properties as a user would and bumps LastModified.
func (c *CRM) Edit(ref crmsync.RecordRef, properties map[string]string) crmsync.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.records[ref]
	for k, v := range properties {
		r.Properties[k] = v
	}
	r.LastModified = c.now()
	c.records[ref] = r
	return clone(r)
}

// AddToList puts a record in a list.
func (c *CRM) AddToList(listID, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists[listID] == nil {
		c.lists[listID] = map[string]bool{}
	}
	c.lists[listID][id] = true
}

// Record returns a stored record (ok false when absent).
func (c *CRM) Record(ref crmsync.RecordRef) (crmsync.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.records[ref]
	return clone(r), ok
}

// Records returns every record of object type o.
func (c *CRM) Records(o crmsync.ObjectType) []crmsync.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []crmsync.Record
	for ref, r := range c.records {
		if ref.Object == o {
			out = append(out, clone(r))
		}
	}
	slices.SortFunc(out, func(a, b crmsync.Record) int { return strings.Compare(a.Ref.ID, b.Ref.ID) })
	return out
}

// Writes returns the creates and updates received so far.
func (c *CRM) Writes() []Write {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.writes)
}

// Calls returns how many calls of op were made.
func (c *CRM) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

func clone(r crmsync.Record) crmsync.Record {
	r.Properties = copyProps(r.Properties)
	return r
}

func copyProps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// GetMany implements crmsync.BatchCRM (one "getmany" call; Fail sees
// op "getmany" with the object type only).
func (c *CRM) GetMany(ctx context.Context, o crmsync.ObjectType, ids []string, properties []string) (map[string]crmsync.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("getmany", crmsync.RecordRef{Side: c.side, Object: o}); err != nil {
		return nil, err
	}
	out := map[string]crmsync.Record{}
	for _, id := range ids {
		if r, ok := c.records[crmsync.RecordRef{Side: c.side, Object: o, ID: id}]; ok && !r.Archived {
			out[id] = clone(r)
		}
	}
	return out, nil
}

// UpdateMany implements crmsync.BatchCRM (one "updatemany" call). Each
// update consults Fail with op "update" for its own result, as a
// collection's per-record errors.
func (c *CRM) UpdateMany(ctx context.Context, o crmsync.ObjectType, updates []crmsync.Update) ([]error, error) {
	c.mu.Lock()
	if err := c.fail("updatemany", crmsync.RecordRef{Side: c.side, Object: o}); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()
	errs := make([]error, len(updates))
	for i, u := range updates {
		ref := crmsync.RecordRef{Side: c.side, Object: o, ID: u.ID}
		errs[i] = c.Update(ctx, ref, u.Properties)
		c.mu.Lock()
		c.calls["update"]-- // counted as part of the batch call
		c.mu.Unlock()
	}
	return errs, nil
}

// Delete implements crmsync.Deleter: the record is archived (a write
// "delete"); deleting one already gone is not an error.
func (c *CRM) Delete(ctx context.Context, ref crmsync.RecordRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("delete", ref); err != nil {
		return err
	}
	r, ok := c.records[ref]
	if !ok || r.Archived {
		return nil
	}
	r.Archived = true
	c.records[ref] = r
	c.writes = append(c.writes, Write{Op: "delete", Ref: ref})
	return nil
}

// assocKey is one record's associations to one object type.
type assocKey struct {
	from crmsync.RecordRef
	to   crmsync.ObjectType
}

// assocSet is one record's associations to one type: ids in the order
// made, and the primary one.
type assocSet struct {
	ids     []string
	primary string
}

// Associate associates ref with the record of type to and id toID as a
// user would (primary makes it the primary association, replacing the
// previous primary, which stays associated); it is not counted as a write.
func (c *CRM) Associate(ref crmsync.RecordRef, to crmsync.ObjectType, toID string, primary bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.assocSet(ref, to)
	if !slices.Contains(set.ids, toID) {
		set.ids = append(set.ids, toID)
	}
	if primary {
		set.primary = toID
	}
}

// Dissociate removes an association as a user would.
func (c *CRM) Dissociate(ref crmsync.RecordRef, to crmsync.ObjectType, toID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.assocSet(ref, to)
	set.ids = slices.DeleteFunc(set.ids, func(id string) bool { return id == toID })
	if set.primary == toID {
		set.primary = ""
	}
}

// assocSet returns ref's associations to type to. Caller holds mu.
func (c *CRM) assocSet(ref crmsync.RecordRef, to crmsync.ObjectType) *assocSet {
	k := assocKey{ref, to}
	if c.assocs[k] == nil {
		c.assocs[k] = &assocSet{}
	}
	return c.assocs[k]
}

// AssociatedMany implements crmsync.BatchAssociations (op
// "associatedmany", one call).
func (c *CRM) AssociatedMany(ctx context.Context, from, to crmsync.ObjectType, ids []string) (map[string][]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("associatedmany", crmsync.RecordRef{Side: c.side, Object: from}); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, id := range ids {
		if set := c.assocs[assocKey{from: crmsync.RecordRef{Side: c.side, Object: from, ID: id}, to: to}]; set != nil && len(set.ids) > 0 {
			out[id] = slices.Clone(set.ids)
		}
	}
	return out, nil
}

// Associated implements crmsync.Associations (one "associated" call).
func (c *CRM) Associated(ctx context.Context, ref crmsync.RecordRef, to crmsync.ObjectType) ([]string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("associated", ref); err != nil {
		return nil, "", err
	}
	set := c.assocSet(ref, to)
	return slices.Clone(set.ids), set.primary, nil
}

// SetPrimary implements crmsync.Associations (one "setprimary" call): the
// previous primary association is removed — the one the caller says it
// saw when ch.Known, as the HubSpot client does, else the fake's own. A
// write "associate" is recorded with the property to → toID.
func (c *CRM) SetPrimary(ctx context.Context, ref crmsync.RecordRef, ch crmsync.PrimaryChange) error {
	to, toID := ch.To, ch.ToID
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail("setprimary", ref); err != nil {
		return err
	}
	if r, ok := c.records[ref]; !ok || r.Archived {
		return fmt.Errorf("fake %s: set primary %s of %s: %w", c.side, to, ref, crmsync.ErrNotFound)
	}
	set := c.assocSet(ref, to)
	old := set.primary
	if ch.Known {
		old = ch.Previous
	}
	if old == toID {
		return nil
	}
	if old != "" {
		set.ids = slices.DeleteFunc(set.ids, func(id string) bool { return id == old })
	}
	set.primary = toID
	if toID != "" && !slices.Contains(set.ids, toID) {
		set.ids = append(set.ids, toID)
	}
	c.writes = append(c.writes, Write{Op: "associate", Ref: ref, Properties: map[string]string{string(to): toID}})
	return nil
}
