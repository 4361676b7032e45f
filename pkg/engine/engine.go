package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// Store is what the engine reads and keeps: settings, links with their
// shadows, dedupe keys, sync errors, API usage and the ledger.
type Store interface {
	crmsync.SettingsStore
	crmsync.Links
	crmsync.Dedupe
	crmsync.Usage
	crmsync.Ledger
	GetSyncError(ctx context.Context, ref crmsync.RecordRef) (crmsync.SyncError, error)
	PutSyncError(ctx context.Context, e crmsync.SyncError) error
	ClearSyncError(ctx context.Context, ref crmsync.RecordRef) error
}

// HubSpotCRM is the HubSpot side as production always has it
// (*hubspot.Client): records, batches, owners, the inclusion list,
// associations (one record's and many records') and archiving. HubSpotSchema is optional.
type HubSpotCRM interface {
	crmsync.CRM
	crmsync.BatchCRM
	crmsync.Owners
	crmsync.ListMembership
	crmsync.Associations
	crmsync.BatchAssociations
	crmsync.Deleter
}

// SalesforceCRM is the Salesforce side as production always has it
// (*salesforce.Client): records, SOQL/collections, owners, deletes, merge
// lookups, opportunity contact roles, campaigns and batch creates. SalesforceSchema and OrgAPIUsage are optional.
type SalesforceCRM interface {
	crmsync.CRM
	crmsync.BatchCRM
	crmsync.Owners
	crmsync.Deleter
	crmsync.MergeResolver
	crmsync.ContactRoles
	crmsync.Campaigns
	crmsync.BatchCreator
}

// Engine resolves triggers. Its fields are its dependencies; all are
// required except Now, DedupeTTL, OwnHubSpotAppID and Logger.
type Engine struct {
	Store      Store
	HubSpot    HubSpotCRM
	Salesforce SalesforceCRM
	Now        func() time.Time
	DedupeTTL  time.Duration
	// OwnHubSpotAppID is crmsync's HubSpot app id: a HubSpot change whose
	// source is this app is an echo of crmsync's own write.
	OwnHubSpotAppID string
	Logger          *slog.Logger

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
	DecisionDuplicate   Decision = "duplicate"      // a repeated delivery: dropped
	DecisionSynced      Decision = "synced"         // wrote at least one side
	DecisionNoChange    Decision = "no_change"      // nothing to write; the sides agree (includes echoes)
	DecisionRefused     Decision = "refused"        // a field rule held a change back; the sides differ by rule
	DecisionNotEligible Decision = "not_eligible"   // refused; a sync error or reason was recorded
	DecisionSkipped     Decision = "skipped"        // the settings say not to sync this; the ledger says so
	DecisionFailed      Decision = "failed"         // a terminal failure; a sync error was recorded
	DecisionSourceGone  Decision = "source_gone"    // the source record no longer exists
	DecisionMerged      Decision = "merged"         // the source was merged away; its link follows the survivor
	DecisionConverted   Decision = "lead_converted" // a converted lead's link now follows its contact
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
	Op         string // "create", "update", "associate" or "delete"
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

// sideCRM is what both sides' CRMs have in common.
type sideCRM interface {
	crmsync.CRM
	crmsync.BatchCRM
	crmsync.Owners
	crmsync.Deleter
}

// crm is side s's CRM.
func (e *Engine) crm(s crmsync.Side) sideCRM {
	if s == crmsync.HubSpot {
		return e.HubSpot
	}
	return e.Salesforce
}

func (e *Engine) dedupeTTL() time.Duration {
	if e.DedupeTTL == 0 {
		return DefaultDedupeTTL
	}
	return e.DedupeTTL
}

// Resolve handles one trigger: ResolveBatch with one trigger. A non-nil
// error means "retry this trigger later"; everything else, including
// terminal failures, is in the Outcome.
func (e *Engine) Resolve(ctx context.Context, t crmsync.Trigger) (Outcome, error) {
	outs, errs := e.ResolveBatch(ctx, []crmsync.Trigger{t})
	return outs[0], errs[0]
}

// LoadSettings returns the settings as the engine applies them: the stored
// ones, or the defaults of HubSpot's connector with the default field
// mappings when none are stored; mappings without a rule take the default
// rule. The one place settings get their defaults (the sweep and the CLI
// call it too).
func LoadSettings(ctx context.Context, st crmsync.SettingsStore) (crmsync.Settings, error) {
	s, err := st.GetSettings(ctx)
	if errors.Is(err, crmsync.ErrNotFound) {
		s = crmsync.DefaultSettings()
		s.Mappings = mapping.DefaultMappings(s.DefaultRule)
		s.ValueMaps = mapping.DefaultValueMaps()
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("load settings: %w", err)
	}
	s = s.Effective()
	if len(s.ValueMaps) == 0 {
		s.ValueMaps = mapping.DefaultValueMaps()
	}
	return s, nil
}

// Settings returns LoadSettings of the engine's store.
func (e *Engine) Settings(ctx context.Context) (crmsync.Settings, error) {
	return LoadSettings(ctx, e.Store)
}
