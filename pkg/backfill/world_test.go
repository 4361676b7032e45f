package backfill_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// simClock is the one clock of a test world: the org's rolling window, the
// engine's budget and the store's usage buckets all read it.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *simClock {
	return &simClock{t: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}
}

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond) // every reading its own instant
	return c.t
}

func (c *simClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// clockedUsage counts the clients' calls at the world's time (the clients
// stamp them with the machine's).
type clockedUsage struct {
	st    crmsync.Usage
	clock *simClock
}

func (u clockedUsage) AddAPIUsage(ctx context.Context, side crmsync.Side, _ time.Time, n int) error {
	return u.st.AddAPIUsage(ctx, side, u.clock.now(), n)
}

// refusals counts Salesforce's calls and its REQUEST_LIMIT_EXCEEDED
// answers.
type refusals struct {
	next  http.RoundTripper
	n     atomic.Int64
	calls atomic.Int64
}

func (r *refusals) RoundTrip(req *http.Request) (*http.Response, error) {
	r.calls.Add(1)
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusForbidden {
		r.n.Add(1)
	}
	return resp, err
}

// fakePager pages through a fake CRM's records in id order (listed once:
// the fake keeps no order of its own).
type fakePager struct {
	crm *crmsynctest.CRM
	mu  sync.Mutex
	ids map[crmsync.ObjectType][]string
}

func (f *fakePager) all(o crmsync.ObjectType) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = map[crmsync.ObjectType][]string{}
	}
	if _, ok := f.ids[o]; !ok {
		var ids []string
		for _, r := range f.crm.Records(o) {
			ids = append(ids, r.Ref.ID)
		}
		sort.Strings(ids)
		f.ids[o] = ids
	}
	return f.ids[o]
}

func (f *fakePager) Page(ctx context.Context, o crmsync.ObjectType, after string, limit int) ([]string, string, error) {
	ids := f.all(o)
	i := sort.SearchStrings(ids, after)
	if after != "" && i < len(ids) && ids[i] == after {
		i++
	}
	page := ids[i:min(i+limit, len(ids))]
	if i+limit >= len(ids) {
		return page, "", nil
	}
	return page, page[len(page)-1], nil
}

func (f *fakePager) Count(ctx context.Context, o crmsync.ObjectType) (int, error) {
	return len(f.all(o)), nil
}

// world is the engine over the real Salesforce client and simulator (no
// outbound messages), HubSpot's simulator and client or an in-memory
// fake (fakeHubSpot), and a bbolt store, on one simulated clock.
type world struct {
	clock  *simClock
	store  *boltstore.Store
	portal *hubspotsim.Portal
	hsFake *crmsynctest.CRM
	org    *salesforcesim.Org
	hs     *hubspot.Client
	sf     *salesforce.Client
	eng    *engine.Engine
	refuse *refusals
	job    *backfill.Job
}

func newWorld(t *testing.T, sfDailyLimit int, fakeHubSpot bool, edit func(*crmsync.Settings)) *world {
	t.Helper()
	w := &world{clock: newClock(), refuse: &refusals{next: http.DefaultTransport}}
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		// bbolt syncs every write: on tmpfs that is free.
		if d, err := os.MkdirTemp("/dev/shm", "backfill-test"); err == nil {
			dir = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.WithClock(w.clock.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.store = st
	w.portal = hubspotsim.New(hubspotsim.Config{Now: w.clock.now})
	w.org = salesforcesim.New(salesforcesim.Config{DailyLimit: sfDailyLimit, Now: w.clock.now, IntegrationUserModifyAll: true})
	hsSrv, sfSrv := httptest.NewServer(w.portal), httptest.NewServer(w.org)
	t.Cleanup(hsSrv.Close)
	t.Cleanup(sfSrv.Close)
	w.org.SetInstanceURL(sfSrv.URL)
	usage := clockedUsage{st: st, clock: w.clock}
	w.hs, err = hubspot.NewClient(hubspot.WithBaseURL(hsSrv.URL), hubspot.WithPrivateAppToken("test"),
		hubspot.WithRateLimit(0, 0), hubspot.WithSearchRateLimit(0, 0), hubspot.WithUsageCounter(usage))
	if err != nil {
		t.Fatal(err)
	}
	w.sf, err = salesforce.NewClient(salesforce.WithBaseURL(sfSrv.URL), salesforce.WithUsageCounter(usage),
		salesforce.WithHTTPClient(&http.Client{Transport: w.refuse, Timeout: time.Minute}),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: w.org.Session("")})))
	if err != nil {
		t.Fatal(err)
	}
	s := crmsync.DefaultSettings()
	s.Mappings = mapping.DefaultMappings(s.DefaultRule)
	s.Budget.SalesforceDailyLimit = sfDailyLimit
	if edit != nil {
		edit(&s)
	}
	if _, err := st.PutSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	w.eng = &engine.Engine{Store: st, HubSpot: w.hs, Salesforce: w.sf, Now: w.clock.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w.job = &backfill.Job{Targets: backfill.Targets(s), Engine: w.eng, Checkpoints: st, Links: st, Owner: "test", Now: w.clock.now,
		Pagers: map[crmsync.Side]backfill.Pager{crmsync.HubSpot: backfill.HubSpot{Client: w.hs}, crmsync.Salesforce: backfill.Salesforce{Client: w.sf}},
		Bulk: engine.Bulk{
			Find:   map[crmsync.Side]engine.EmailFinder{crmsync.HubSpot: backfill.HubSpot{Client: w.hs}, crmsync.Salesforce: backfill.Salesforce{Client: w.sf}},
			Create: map[crmsync.Side]crmsync.BatchCreator{crmsync.HubSpot: backfill.HubSpot{Client: w.hs}}, // Salesforce's is the client's own
		}}
	if fakeHubSpot {
		w.hsFake = crmsynctest.NewCRM(crmsync.HubSpot, w.clock.now)
		w.eng.HubSpot = w.hsFake
		w.job.Pagers[crmsync.HubSpot] = &fakePager{crm: w.hsFake}
		delete(w.job.Bulk.Find, crmsync.HubSpot)
		delete(w.job.Bulk.Create, crmsync.HubSpot)
	}
	return w
}

// contacts puts n HubSpot contacts in the portal (or the fake), as
// people made them.
func (w *world) contacts(t *testing.T, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		props := map[string]string{"email": fmt.Sprintf("c%d@example.com", i), "firstname": "C", "lastname": fmt.Sprint(i), "company": "Acme"}
		if w.hsFake != nil {
			w.hsFake.Put(crmsync.Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprintf("%06d", i)}, Properties: props})
			continue
		}
		if _, err := w.portal.CreateAsUser(crmsync.HSContact, props); err != nil {
			t.Fatal(err)
		}
	}
}

// sfUsed is the org's API usage in its rolling window now.
func (w *world) sfUsed() int {
	used, _ := w.org.APIUsage()
	return used
}

func (w *world) trigger(ref crmsync.RecordRef, kind crmsync.TriggerKind) crmsync.Trigger {
	return crmsync.Trigger{Record: ref, Kind: kind, OccurredAt: w.clock.now(),
		DedupeKey: crmsync.DedupeKeyOf("test", ref.Key(), string(kind), w.clock.now().String())}
}
