package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// Store is what the health pages read and write of crmsync.Store (which
// has every method). Errors wrap the crmsync sentinels as there.
type Store interface {
	RecordReader
	ErrorLister
	UsageReader
	// GetCursor returns the sweep cursor of side and object, or
	// crmsync.ErrNotFound.
	GetCursor(ctx context.Context, side crmsync.Side, object crmsync.ObjectType) (crmsync.Cursor, error)
	// PutSettings stores s when the stored version equals s.Version (0 =
	// none stored yet), else crmsync.ErrVersionConflict; invalid settings
	// are crmsync.ErrInvalid.
	PutSettings(ctx context.Context, s crmsync.Settings) (crmsync.Settings, error)
	// AppendLedger stores an entry; one without LinkID is crmsync.ErrInvalid.
	AppendLedger(ctx context.Context, e crmsync.LedgerEntry) error
}

// StatsReader reads a queue's approximate counts (crmsync.Queue has it).
type StatsReader interface {
	// Stats returns the depth and the oldest message's age (negative when
	// the queue cannot tell).
	Stats(ctx context.Context) (crmsync.QueueStats, error)
}

// Queue is the trigger queue as the pages use it: its counts, and
// resyncs to enqueue (crmsync.Queue has it).
type Queue interface {
	Sender
	StatsReader
}

// Connection is what is known of the connected accounts; empty fields are
// shown as unknown.
type Connection struct {
	SalesforceOrgID string `json:"salesforce_org_id"`
	// SalesforceOrgKind is "production", "sandbox" or "" (unknown).
	SalesforceOrgKind string `json:"salesforce_org_kind"`
	// IntegrationUser is the Salesforce user crmsync acts as.
	IntegrationUser string `json:"integration_user"`
	HubSpotPortal   string `json:"hubspot_portal"`
}

// SweepLog keeps the last sweep's report where the process runs the sweep
// itself (the local stack). Safe for concurrent use.
type SweepLog struct {
	mu   sync.Mutex
	last *SweepRun
}

// SweepRun is one recorded sweep.
type SweepRun struct {
	Report sweep.Report `json:"report"`
	Error  string       `json:"error,omitempty"`
}

// Record keeps rep (and the run's error) as the last sweep.
func (l *SweepLog) Record(rep sweep.Report, err error) {
	run := &SweepRun{Report: rep}
	if err != nil {
		run.Error = err.Error()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = run
}

// Last returns the last recorded sweep, or nil.
func (l *SweepLog) Last() *SweepRun {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Report is the whole Sync Health page, as JSON at /health.json.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	Usage       Usage     `json:"api_usage"`
	// Budget is what the API budget holds back now (nil: unknown here).
	Budget      *engine.BudgetState `json:"budget"`
	Cards       []Card              `json:"error_cards"`
	CardsPartly bool                `json:"error_cards_partial,omitempty"`
	Queue       QueueHealth         `json:"queue"`
	Sweep       SweepHealth         `json:"sweep"`
	Settings    SettingsView        `json:"settings"`
	Connection  Connection          `json:"connection"`
}

// Usage is crmsync's API calls in the last 24 hours.
type Usage struct {
	SalesforceCalls int64 `json:"salesforce_calls_24h"`
	// SalesforceAllocation is the settings' budget.salesforce_daily_limit
	// (0: Salesforce's own allocation for the org applies, which these
	// pages do not read).
	SalesforceAllocation int `json:"salesforce_allocation"`
	// Percent of the allocation used; null when the allocation is unknown.
	Percent         *float64    `json:"percent"`
	SalesforceHours []HourUsage `json:"salesforce_hours"`
	HubSpotCalls    int64       `json:"hubspot_calls_24h"`
	// Changes are the recent allocation changes, newest first.
	Changes []crmsync.LedgerEntry `json:"allocation_changes"`
}

// QueueHealth is the trigger queue's state. Null fields are unknown, and
// Notes say why.
type QueueHealth struct {
	Visible     *int     `json:"visible"`
	InFlight    *int     `json:"in_flight"`
	OldestAge   *float64 `json:"oldest_age_seconds"`
	DeadLetters *int     `json:"dead_letters"`
	Notes       []string `json:"notes,omitempty"`
}

// CursorLag is one sweep cursor and how far behind it is.
type CursorLag struct {
	crmsync.Cursor
	LagSeconds float64 `json:"lag_seconds"`
}

// SweepHealth is the sweep's state: its cursors and, where recorded, its
// last run.
type SweepHealth struct {
	Cursors []CursorLag `json:"cursors"`
	// LagSeconds is the largest cursor lag; null without cursors.
	LagSeconds *float64  `json:"lag_seconds"`
	Last       *SweepRun `json:"last_run"`
	Notes      []string  `json:"notes,omitempty"`
}

// Toggle is one on/off setting.
type Toggle struct {
	Name string `json:"name"`
	On   bool   `json:"on"`
}

// SettingsView is what HubSpot's "Sync Settings" shows.
type SettingsView struct {
	Version    int64     `json:"version"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
	Objects    []Toggle  `json:"objects"`
	Activities []Toggle  `json:"activities"`
}

// SettingsLedgerKey is the ledger key settings changes are audited under.
const SettingsLedgerKey = "settings"

// changesShown is how many allocation changes the page lists.
const changesShown = 5

// Build reads the whole report.
func (h *Handler) Build(ctx context.Context) (Report, error) {
	now := h.now()
	r := Report{GeneratedAt: now, Connection: h.Connection}
	s, err := h.Settings(ctx)
	if err != nil {
		return r, fmt.Errorf("health: settings: %w", err)
	}
	r.Settings = settingsView(s)
	if r.Connection.IntegrationUser == "" && s.SelectiveSync.IntegrationUserID != "" {
		r.Connection.IntegrationUser = s.SelectiveSync.IntegrationUserID
	}
	if r.Usage, err = h.usage(ctx, s, now); err != nil {
		return r, err
	}
	if h.Budget != nil {
		b := h.Budget()
		r.Budget = &b
	}
	var all bool
	if r.Cards, all, err = buildCards(ctx, h.Store); err != nil {
		return r, fmt.Errorf("health: %w", err)
	}
	r.CardsPartly = !all
	r.Queue = h.queueHealth(ctx)
	if r.Sweep, err = h.sweepHealth(ctx, now); err != nil {
		return r, err
	}
	return r, nil
}

func (h *Handler) usage(ctx context.Context, s crmsync.Settings, now time.Time) (Usage, error) {
	u := Usage{SalesforceAllocation: s.Budget.SalesforceDailyLimit, Changes: []crmsync.LedgerEntry{}}
	var err error
	if u.SalesforceCalls, err = h.Store.APIUsage(ctx, crmsync.Salesforce, now); err != nil {
		return u, fmt.Errorf("health: salesforce api usage: %w", err)
	}
	if u.HubSpotCalls, err = h.Store.APIUsage(ctx, crmsync.HubSpot, now); err != nil {
		return u, fmt.Errorf("health: hubspot api usage: %w", err)
	}
	if u.SalesforceHours, err = hourlyUsage(ctx, h.Store, crmsync.Salesforce, now); err != nil {
		return u, fmt.Errorf("health: %w", err)
	}
	if u.SalesforceAllocation > 0 {
		p := 100 * float64(u.SalesforceCalls) / float64(u.SalesforceAllocation)
		u.Percent = &p
	}
	changes, _, err := h.Store.ListLedger(ctx, SettingsLedgerKey, crmsync.PageRequest{Limit: changesShown})
	if err != nil {
		return u, fmt.Errorf("health: settings ledger: %w", err)
	}
	u.Changes = append(u.Changes, changes...)
	return u, nil
}

func (h *Handler) queueHealth(ctx context.Context) QueueHealth {
	var q QueueHealth
	if h.Queue == nil {
		q.Notes = append(q.Notes, "queue counts unknown: the report was built from the store alone")
		return q
	}
	st, err := h.Queue.Stats(ctx)
	if err != nil {
		q.Notes = append(q.Notes, "queue counts unknown: "+err.Error())
	} else {
		q.Visible, q.InFlight = &st.Visible, &st.InFlight
		if st.OldestAge >= 0 {
			age := st.OldestAge.Seconds()
			q.OldestAge = &age
		} else {
			q.Notes = append(q.Notes, "age of the oldest trigger unknown: SQS does not report it "+
				"(CloudWatch's ApproximateAgeOfOldestMessage has it, and the oldest-trigger-age alarm watches it)")
		}
	}
	switch {
	case h.DeadLetters == nil:
		q.Notes = append(q.Notes, "dead-letter queue size unknown: this queue has no dead-letter queue these pages can read")
	default:
		if d, err := h.DeadLetters.Stats(ctx); err != nil {
			q.Notes = append(q.Notes, "dead-letter queue size unknown: "+err.Error())
		} else {
			n := d.Visible + d.InFlight
			q.DeadLetters = &n
		}
	}
	return q
}

func (h *Handler) sweepHealth(ctx context.Context, now time.Time) (SweepHealth, error) {
	sh := SweepHealth{Cursors: []CursorLag{}, Last: h.Sweeps.Last()}
	for _, side := range []crmsync.Side{crmsync.HubSpot, crmsync.Salesforce} {
		for _, o := range crmsync.ObjectTypes(side) {
			c, err := h.Store.GetCursor(ctx, side, o)
			if errors.Is(err, crmsync.ErrNotFound) {
				continue
			}
			if err != nil {
				return sh, fmt.Errorf("health: cursor %s %s: %w", side, o, err)
			}
			lag := max(now.Sub(c.Timestamp), 0).Seconds()
			sh.Cursors = append(sh.Cursors, CursorLag{Cursor: c, LagSeconds: lag})
			if sh.LagSeconds == nil || lag > *sh.LagSeconds {
				sh.LagSeconds = &lag
			}
		}
	}
	if len(sh.Cursors) == 0 {
		sh.Notes = append(sh.Notes, "no sweep cursor yet: the sweep has not completed a listing")
	}
	if h.Sweeps == nil {
		sh.Notes = append(sh.Notes, "the last sweep's report is not recorded here: the sweep function logs it "+
			"(its \"sweep start\" and \"sweep failed\" lines) and emits its metrics")
	} else if sh.Last == nil {
		sh.Notes = append(sh.Notes, "no sweep has run since this process started")
	}
	return sh, nil
}

func settingsView(s crmsync.Settings) SettingsView {
	a := s.Activities
	return SettingsView{Version: s.Version, UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy,
		Objects: []Toggle{
			{"Contacts (HubSpot contacts ⇄ Salesforce leads and contacts)", s.Objects.Contacts},
			{"Companies (HubSpot companies ⇄ Salesforce accounts)", s.Objects.Companies},
			{"Deals (HubSpot deals ⇄ Salesforce opportunities)", s.Objects.Deals},
		},
		Activities: []Toggle{
			{"Form submissions", a.FormSubmissions}, {"Marketing emails", a.MarketingEmails},
			{"Sales emails", a.SalesEmails}, {"Meetings", a.Meetings}, {"Calls", a.Calls},
			{"Notes", a.Notes}, {"Tasks", a.Tasks}, {"Document views", a.DocumentViews},
		}}
}
