package salesforcesim

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// Config configures an Org. The zero value is usable.
type Config struct {
	// OrgID is the organization id (default 00D5e0000001SIM…).
	OrgID string
	// Picklists is the State and Country/Territory Picklists setting
	// (default PicklistsCustomized).
	Picklists Picklists
	// DailyLimit is the API allocation in a rolling 24 hours (default
	// 15000). Calls past it answer 403 REQUEST_LIMIT_EXCEEDED.
	DailyLimit int
	// Now is the org's clock (default time.Now). Tests pass a clock they
	// move forward to compress time (limits, outbound retries).
	Now func() time.Time
	// QueryBatchSize is the page size of query answers (default 2000).
	QueryBatchSize int
	// Seed seeds fault injection and outbound reordering.
	Seed int64
	// IntegrationUserModifyAll gives the integration user the "Modify All
	// Data" permission most integration users have: it sees and writes
	// every record, whoever owns it. Off (the default), sharing applies to
	// it like to any user — the setting selective sync is built on.
	IntegrationUserModifyAll bool
	// StandardDuplicateRules turns on the duplicate rules a new org ships
	// with active: "Standard Lead Duplicate Rule" and "Standard Contact
	// Duplicate Rule", action Alert on create and edit. An API save that
	// matches one (same Email here; the real matching rules also compare
	// names and, for leads, contacts) is refused with DUPLICATES_DETECTED
	// unless it sends Sforce-Duplicate-Rule-Header: allowSave=true. Off
	// by default, as crmsync's local stack has it for now; the local
	// stack can turn it on to run against an org as it ships.
	StandardDuplicateRules bool
}

// Access is what a user may do with a record shared with them.
type Access int

// Access levels.
const (
	NoAccess Access = iota
	ReadOnly
	ReadWrite
)

// Faults are injected into REST calls (never admin calls) at the given
// rates (0–1), drawn from the org's seeded random source.
type Faults struct {
	// LockRow fails a record write with UNABLE_TO_LOCK_ROW (per record in
	// collections; the whole call for single-record writes).
	LockRow float64
	// ServerError answers 503 SERVER_UNAVAILABLE.
	ServerError float64
	// Drop closes the connection without an answer.
	Drop float64
	// Timeout never answers: the call hangs until the client gives up
	// (its timeout or context).
	Timeout float64
	// Latency delays every call (real time).
	Latency time.Duration
}

// ValidationRule is a validation rule on one object: when Fails says so,
// a write is refused with FIELD_CUSTOM_VALIDATION_EXCEPTION and Message
// (on Field when set, as an error shown at a field).
type ValidationRule struct {
	Object  string
	Name    string
	Message string
	Field   string
	// Fails sees the record as it would be saved.
	Fails func(rec map[string]any) bool
}

// DuplicateRule matches records of Object whose Email equals the saved
// record's (case-insensitive). Block refuses the save; otherwise it is
// an alert, and the save is refused unless the request's
// Sforce-Duplicate-Rule-Header says allowSave=true.
type DuplicateRule struct {
	Object string
	Name   string
	Block  bool
}

type record struct {
	obj       *Object
	fields    map[string]any
	deleted   bool
	deletedAt time.Time
}

func (r *record) id() string    { s, _ := r.fields["Id"].(string); return s }
func (r *record) owner() string { s, _ := r.fields["OwnerId"].(string); return s }

// Org is a simulated Salesforce org: an http.Handler serving the REST API
// (under /services/…), the OAuth token endpoint and admin endpoints
// (under /admin/…), and the sender of Outbound Messages. Safe for
// concurrent use.
type Org struct {
	mu       sync.Mutex
	cfg      Config
	schema   map[string]*Object
	records  map[string]*record // by 18-character id
	seq      map[string]int     // per key prefix
	sessions map[string]string  // token → user id
	shares   map[string]map[string]Access
	rules    []ValidationRule
	dups     []DuplicateRule
	faults   Faults
	rng      *rand.Rand
	usage    map[int64]int // calls per minute (unix minute)
	lastMod  time.Time
	cursors  map[string]*cursor
	outbound outboundState
	refresh  map[string]string // refresh token → user id

	sessionSeq int // access tokens issued

	instanceURL string

	// IntegrationUserID is the user the API acts as with sessions from
	// Session(""), the token endpoint, and records created without owner.
	IntegrationUserID string
}

// New returns an org with the default schema, an integration user and an
// admin user.
func New(cfg Config) *Org {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DailyLimit == 0 {
		cfg.DailyLimit = 15000
	}
	if cfg.QueryBatchSize == 0 {
		cfg.QueryBatchSize = 2000
	}
	if cfg.OrgID == "" {
		cfg.OrgID = salesforce.ID18("00D5e0000001SIM")
	}
	o := &Org{
		cfg: cfg, schema: DefaultSchema(), records: map[string]*record{}, seq: map[string]int{},
		sessions: map[string]string{}, shares: map[string]map[string]Access{},
		rng: rand.New(rand.NewSource(cfg.Seed)), usage: map[int64]int{}, cursors: map[string]*cursor{},
		refresh: map[string]string{},
	}
	applyPicklists(o.schema, cfg.Picklists)
	o.IntegrationUserID = o.AddUser("integration@crmsync.example", "Integration User")
	if cfg.StandardDuplicateRules {
		o.dups = append(o.dups, DuplicateRule{Object: "Lead", Name: "Standard_Lead_Duplicate_Rule"},
			DuplicateRule{Object: "Contact", Name: "Standard_Contact_Duplicate_Rule"})
	}
	return o
}

// OrgID returns the organization id (18 characters).
func (o *Org) OrgID() string { return o.cfg.OrgID }

// Object returns an sObject type of the org's schema, to add fields
// (Object.AddField) before the org serves requests.
func (o *Org) Object(name string) (*Object, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.schema[name]
	return obj, ok
}

// AddUser adds an active user and returns its id.
func (o *Org) AddUser(username, name string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.cfg.Now().UTC()
	id := o.newID("User")
	o.records[id] = &record{obj: o.schema["User"], fields: map[string]any{
		"Id": id, "Username": username, "Email": username, "Name": name, "IsActive": true, "IsDeleted": false,
		"CreatedDate": formatTime(now), "LastModifiedDate": formatTime(now), "SystemModstamp": formatTime(now),
	}}
	return id
}

// SetUserActive activates or deactivates a user (an admin's Setup >
// Users > Active), as SOQL on User's IsActive then sees it.
func (o *Org) SetUserActive(id string, active bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.records[id]; ok && r.obj.Name == "User" {
		r.fields["IsActive"] = active
	}
}

// Session returns a new access token acting as userID ("" = the
// integration user).
func (o *Org) Session(userID string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.newSession(userID)
}

func (o *Org) newSession(userID string) string {
	if userID == "" {
		userID = o.IntegrationUserID
	}
	// A counter, not len(o.sessions): after ExpireSessions an expired
	// token must never be issued again (it would come back to life).
	o.sessionSeq++
	tok := fmt.Sprintf("%s!SIM%06d%s", salesforce.ID15(o.cfg.OrgID), o.sessionSeq, strings.Repeat("x", 8))
	o.sessions[tok] = userID
	return tok
}

// ExpireSessions invalidates every access token, as a session timeout
// does: calls answer 401 INVALID_SESSION_ID until the client re-auths.
func (o *Org) ExpireSessions() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sessions = map[string]string{}
}

// Share gives userID access to the record id (sharing rule or manual
// share); NoAccess removes the share.
func (o *Org) Share(id, userID string, a Access) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id = salesforce.ID18(id)
	if o.shares[id] == nil {
		o.shares[id] = map[string]Access{}
	}
	o.shares[id][userID] = a
}

// AddValidationRule adds a validation rule.
func (o *Org) AddValidationRule(r ValidationRule) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rules = append(o.rules, r)
}

// AddDuplicateRule adds a duplicate rule matching on Email.
func (o *Org) AddDuplicateRule(r DuplicateRule) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dups = append(o.dups, r)
}

// SetFaults sets the injected faults.
func (o *Org) SetFaults(f Faults) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.faults = f
}

// SetDailyLimit changes the API allocation.
func (o *Org) SetDailyLimit(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cfg.DailyLimit = n
}

// APIUsage returns the calls counted in the last 24 hours and the limit.
func (o *Org) APIUsage() (used, limit int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.usedLocked(), o.cfg.DailyLimit
}

func (o *Org) usedLocked() int {
	from := o.cfg.Now().Add(-24*time.Hour).Unix() / 60
	n := 0
	for m, c := range o.usage {
		if m > from {
			n += c
		} else {
			delete(o.usage, m)
		}
	}
	return n
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns the next 18-character id of an object type: key prefix,
// "5e", and a base-62 sequence.
func (o *Org) newID(object string) string {
	prefix := o.schema[object].KeyPrefix
	o.seq[prefix]++
	n := o.seq[prefix]
	var b [10]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return salesforce.ID18(prefix + "5e" + string(b[:]))
}

// tick returns the org's time for a write, strictly after the previous
// write's (SystemModstamp orders changes), at millisecond resolution.
func (o *Org) tick() time.Time {
	now := o.cfg.Now().UTC().Truncate(time.Millisecond)
	if !now.After(o.lastMod) {
		now = o.lastMod.Add(time.Millisecond)
	}
	o.lastMod = now
	return now
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }

// lookup returns the live record with id (15 or 18 characters).
func (o *Org) lookup(id string) (*record, bool) {
	if !salesforce.ValidID(id) {
		return nil, false
	}
	r, ok := o.records[salesforce.ID18(id)]
	return r, ok
}

// SetIntegrationUserModifyAll turns the integration user's "Modify All
// Data" permission on or off (see Config.IntegrationUserModifyAll).
func (o *Org) SetIntegrationUserModifyAll(on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cfg.IntegrationUserModifyAll = on
}

// access is what user may do with r: owners, and everyone on public
// objects, read and write; others what the record is shared with them.
func (o *Org) access(user string, r *record) Access {
	if !r.obj.Private || r.owner() == user || o.cfg.IntegrationUserModifyAll && user == o.IntegrationUserID {
		return ReadWrite
	}
	return o.shares[r.id()][user]
}
