package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// DefaultDedupeTTL is how long a delivery is remembered: longer than
// HubSpot's (about 24 h of retries) and Salesforce's (24 h) retry windows.
const DefaultDedupeTTL = 25 * time.Hour

// PendingLease is how long a link reservation protects a creation in
// progress. A reservation older than this was left by a worker that died
// between reserving and completing; another worker may claim it. (Within a
// FIFO message group only one worker handles a record at a time, so this
// guards against crashes and against triggers from different groups.)
const PendingLease = 2 * time.Minute

// Engine resolves triggers. Its fields are its dependencies; all are
// required except Now, DedupeTTL and Logger.
type Engine struct {
	Store      crmsync.Store
	HubSpot    crmsync.CRM
	Salesforce crmsync.CRM
	Now        func() time.Time
	DedupeTTL  time.Duration
	Logger     *slog.Logger

	budget budget
}

// HubSpotSchema and SalesforceSchema are optional abilities of the CRMs
// (found by type assertion): their field metadata lets the engine convert
// values between the CRMs' types (mapping.Converter) — dates, numbers,
// booleans, multi-selects — so that equal values compare equal and echoes
// stay quiet. Without them values are compared and written as text.
type HubSpotSchema interface {
	MappingProperties(ctx context.Context, o crmsync.ObjectType) (map[string]mapping.HubSpotProperty, error)
}

// SalesforceSchema: see HubSpotSchema.
type SalesforceSchema interface {
	MappingFields(ctx context.Context, o crmsync.ObjectType) (map[string]mapping.SalesforceField, error)
}

// Decision is what Resolve did with a trigger.
type Decision string

// Decisions.
const (
	DecisionDuplicate   Decision = "duplicate"    // a repeated delivery: dropped
	DecisionSynced      Decision = "synced"       // wrote at least one side
	DecisionNoChange    Decision = "no_change"    // nothing to write (includes echoes)
	DecisionNotEligible Decision = "not_eligible" // refused; a sync error or reason was recorded
	DecisionSkipped     Decision = "skipped"      // the settings say not to sync this
	DecisionFailed      Decision = "failed"       // a terminal failure; a sync error was recorded
	DecisionSourceGone  Decision = "source_gone"  // the source record no longer exists
	DecisionMerged      Decision = "merged"       // the source was merged away; its link follows the survivor
)

// Outcome describes a resolved trigger, for logs and tests.
type Outcome struct {
	Trigger  crmsync.Trigger
	Decision Decision
	// Reason says why, in words.
	Reason string
	LinkID string
	Writes []Write
	// Conflicts counts Two-way fields both sides changed.
	Conflicts int
	// Category is the sync-error category when a sync error was recorded.
	Category crmsync.Category
}

// Write is one write the engine made.
type Write struct {
	Op         string // "create" or "update"
	Ref        crmsync.RecordRef
	Properties map[string]string
}

// errRetry marks a condition worth retrying that is not a vendor failure.
type errRetry struct{ msg string }

func (e errRetry) Error() string   { return e.msg }
func (e errRetry) Transient() bool { return true }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func (e *Engine) crm(s crmsync.Side) crmsync.CRM {
	if s == crmsync.HubSpot {
		return e.HubSpot
	}
	return e.Salesforce
}

// Resolve handles one trigger. A non-nil error means "retry this trigger
// later"; everything else, including terminal failures, is in the Outcome.
func (e *Engine) Resolve(ctx context.Context, t crmsync.Trigger) (Outcome, error) {
	if err := t.Validate(); err != nil {
		return Outcome{Trigger: t, Decision: DecisionFailed, Reason: err.Error()}, nil
	}
	seen, err := e.Store.Seen(ctx, t.DedupeKey, e.dedupeTTL())
	if err != nil {
		return Outcome{Trigger: t}, fmt.Errorf("engine: dedupe %s: %w", t.Record, err)
	}
	if seen {
		return Outcome{Trigger: t, Decision: DecisionDuplicate, Reason: "delivery already handled"}, nil
	}
	return e.finishOne(ctx, t, func() (Outcome, error) { return e.resolve(ctx, t) })
}

func (e *Engine) dedupeTTL() time.Duration {
	if e.DedupeTTL == 0 {
		return DefaultDedupeTTL
	}
	return e.DedupeTTL
}

// pair is the object pair a trigger concerns.
type pair struct {
	hs crmsync.ObjectType
	// sf is the Salesforce type when known (the source's, or the linked
	// record's); for a HubSpot contact not linked yet it is "" and
	// candidates lists the types to match against.
	sf         crmsync.ObjectType
	candidates []crmsync.ObjectType
	enabled    bool
	name       string
}

func pairFor(src crmsync.RecordRef, s crmsync.Settings) (pair, bool) {
	switch src.Object {
	case crmsync.HSContact:
		return pair{hs: crmsync.HSContact, candidates: []crmsync.ObjectType{crmsync.SFContact, crmsync.SFLead}, enabled: s.Objects.Contacts, name: "contacts"}, true
	case crmsync.SFLead, crmsync.SFContact:
		return pair{hs: crmsync.HSContact, sf: src.Object, enabled: s.Objects.Contacts, name: "contacts"}, true
	case crmsync.HSCompany:
		return pair{hs: crmsync.HSCompany, sf: crmsync.SFAccount, enabled: s.Objects.Companies, name: "companies"}, true
	case crmsync.SFAccount:
		return pair{hs: crmsync.HSCompany, sf: crmsync.SFAccount, enabled: s.Objects.Companies, name: "companies"}, true
	case crmsync.HSDeal, crmsync.SFOpportunity:
		return pair{hs: crmsync.HSDeal, sf: crmsync.SFOpportunity, enabled: s.Objects.Deals, name: "deals"}, true
	}
	return pair{}, false
}

func (p pair) isContact() bool { return p.hs == crmsync.HSContact }

// properties lists what to read of a record of object o on side s.
func properties(ms []crmsync.FieldMapping, s crmsync.Side, o crmsync.ObjectType) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, m := range ms {
		if s == crmsync.HubSpot && m.HubSpotObject == o {
			add(m.HubSpotProperty)
		}
		if s == crmsync.Salesforce && m.SalesforceObject == o {
			add(m.SalesforceField)
		}
	}
	if o == crmsync.HSContact {
		add("email")
	}
	if o == crmsync.SFLead || o == crmsync.SFContact {
		add("Email")
	}
	return out
}

func emailOf(r crmsync.Record) string {
	if r.Ref.Side == crmsync.HubSpot {
		return strings.TrimSpace(r.Properties["email"])
	}
	return strings.TrimSpace(r.Properties["Email"])
}

// Settings returns the stored settings, or the defaults with the default
// mappings when none are stored.
func (e *Engine) Settings(ctx context.Context) (crmsync.Settings, error) {
	s, err := e.Store.GetSettings(ctx)
	if errors.Is(err, crmsync.ErrNotFound) {
		s = crmsync.DefaultSettings()
		s.Mappings = mapping.DefaultMappings(s.DefaultRule)
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("load settings: %w", err)
	}
	return s, nil
}
