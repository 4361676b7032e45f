package sweep_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sweep"
)

// fakeSOQL answers the sweep's change queries over records, evaluating
// their WHERE, ORDER BY and LIMIT, and records each query. It hands the
// result to fn in pages of 3 (as QueryMore would).
type fakeSOQL struct {
	records []salesforce.Record // SystemModstamp in Salesforce's JSON form
	queries []string
	deleted *salesforce.DeletedResult
	window  [2]time.Time
}

var (
	reQuery = regexp.MustCompile(`^SELECT Id, SystemModstamp FROM (\w+)(?: WHERE (.*))? ORDER BY SystemModstamp, Id LIMIT (\d+)$`)
	reFrom  = regexp.MustCompile(`^SystemModstamp >= (\S+)$`)
	reAfter = regexp.MustCompile(`^SystemModstamp > (\S+) OR \(SystemModstamp = (\S+) AND Id > '([^']*)'\)$`)
)

func (f *fakeSOQL) QueryEach(ctx context.Context, soql string, fn func([]salesforce.Record) error) error {
	f.queries = append(f.queries, soql)
	m := reQuery.FindStringSubmatch(soql)
	if m == nil {
		return fmt.Errorf("fake: unexpected query %q", soql)
	}
	limit, _ := strconv.Atoi(m[3])
	keep := func(at time.Time, id string) bool { return true }
	if w := m[2]; w != "" {
		if mm := reFrom.FindStringSubmatch(w); mm != nil {
			from, _ := time.Parse(time.RFC3339, mm[1])
			keep = func(at time.Time, id string) bool { return !at.Before(from) }
		} else if mm := reAfter.FindStringSubmatch(w); mm != nil && mm[1] == mm[2] {
			from, _ := time.Parse(time.RFC3339, mm[1])
			keep = func(at time.Time, id string) bool { return at.After(from) || at.Equal(from) && id > mm[3] }
		} else {
			return fmt.Errorf("fake: unexpected WHERE %q", w)
		}
	}
	var out []salesforce.Record
	for _, r := range f.records {
		at, err := salesforce.ParseTime(r.Text("SystemModstamp"))
		if err != nil {
			return err
		}
		if keep(at, r.ID) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b salesforce.Record) int {
		return cmp.Or(cmp.Compare(a.Text("SystemModstamp"), b.Text("SystemModstamp")), cmp.Compare(a.ID, b.ID))
	})
	out = out[:min(limit, len(out))]
	for len(out) > 0 {
		n := min(3, len(out))
		if err := fn(out[:n]); err != nil {
			return err
		}
		out = out[n:]
	}
	return nil
}

func (f *fakeSOQL) GetDeleted(ctx context.Context, sobject string, start, end time.Time) (*salesforce.DeletedResult, error) {
	f.window = [2]time.Time{start, end}
	return f.deleted, nil
}

func sfRecord(id string, at time.Time) salesforce.Record {
	return salesforce.Record{Type: "Lead", ID: id, Fields: map[string]any{"Id": id,
		"SystemModstamp": at.UTC().Format("2006-01-02T15:04:05.000-0700")}}
}

func TestSalesforceSourceKeyset(t *testing.T) {
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	fake := &fakeSOQL{}
	var want []string
	for i := range 7 { // seven on one second: more than two pages of 2
		fake.records = append(fake.records, sfRecord(fmt.Sprintf("00Q%03d", i), at))
	}
	fake.records = append(fake.records, sfRecord("00Q000", at.Add(time.Second)), sfRecord("00Q999", at.Add(-time.Hour)))
	want = []string{"00Q999", "00Q000", "00Q001", "00Q002", "00Q003", "00Q004", "00Q005", "00Q006", "00Q000"}
	src := &sweep.SalesforceSource{Client: fake, PageSize: 2}
	list := func(from crmsync.Cursor) []string {
		t.Helper()
		var ids []string
		err := src.Changes(t.Context(), crmsync.SFLead, from, func(c sweep.Change) error {
			if c.Ref.Side != crmsync.Salesforce || c.Ref.Object != crmsync.SFLead {
				t.Errorf("change %v: want a Salesforce Lead", c.Ref)
			}
			ids = append(ids, c.Ref.ID)
			return nil
		})
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		return ids
	}
	if got := list(crmsync.Cursor{}); !slices.Equal(got, want) {
		t.Errorf("from the beginning: %v, want %v", got, want)
	}
	if len(fake.queries) != 5 {
		t.Errorf("%d queries for 9 records in pages of 2, want 5: %q", len(fake.queries), fake.queries)
	}
	if q := fake.queries[1]; q != "SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > 2026-05-04T10:00:00Z OR (SystemModstamp = 2026-05-04T10:00:00Z AND Id > '00Q000') ORDER BY SystemModstamp, Id LIMIT 2" {
		t.Errorf("second query = %q", q)
	}
	if got := list(crmsync.Cursor{Timestamp: at, LastID: "00Q004"}); !slices.Equal(got, want[6:]) {
		t.Errorf("from (10:00, 00Q004): %v, want %v", got, want[6:])
	}
	if got := list(crmsync.Cursor{Timestamp: at}); !slices.Equal(got, want[1:]) {
		t.Errorf("from (10:00, none at 10:00 yet): %v, want %v", got, want[1:])
	}
	stop := errors.New("stop")
	err := src.Changes(t.Context(), crmsync.SFLead, crmsync.Cursor{}, func(sweep.Change) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("Changes with a callback error: %v, want it returned", err)
	}
}

func TestSalesforceSourceDeleted(t *testing.T) {
	now := time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC)
	deletedAt := now.Add(-time.Hour)
	fake := &fakeSOQL{deleted: &salesforce.DeletedResult{DeletedRecords: []salesforce.DeletedRecord{
		{ID: "003D", DeletedDate: salesforce.Time{Time: deletedAt}}}}}
	src := &sweep.SalesforceSource{Client: fake, Now: func() time.Time { return now }}
	var got []sweep.Change
	collect := func(c sweep.Change) error { got = append(got, c); return nil }

	from := now.Add(-2 * time.Hour)
	start, err := src.Deleted(t.Context(), crmsync.SFContact, from, now, collect)
	if err != nil || !start.Equal(from) || fake.window != [2]time.Time{from, now} {
		t.Errorf("Deleted within the window: start %v, err %v, asked %v; want from %v to %v", start, err, fake.window, from, now)
	}
	if len(got) != 1 || got[0].Ref != sfContact("003D") || !got[0].Modified.Equal(deletedAt) {
		t.Errorf("deletions = %+v, want 003D at %v", got, deletedAt)
	}

	old := now.Add(-20 * 24 * time.Hour)
	start, err = src.Deleted(t.Context(), crmsync.SFContact, old, now, collect)
	if err != nil || !start.After(now.Add(-salesforce.DeletedWindow)) || !start.After(old) {
		t.Errorf("Deleted from 20 days ago: start %v, err %v; want a start inside the 15-day window", start, err)
	}
	fake.window = [2]time.Time{}
	_, err = src.Deleted(t.Context(), crmsync.SFContact, now.Add(5*time.Second), now.Add(50*time.Second), collect)
	if err != nil || !fake.window[0].IsZero() {
		t.Errorf("Deleted within one minute: asked %v, err %v; want no call (getDeleted works to the minute)", fake.window, err)
	}
}

type fakeScan struct {
	from    hubspot.ScanCursor
	objects []hubspot.Object
}

func (f *fakeScan) ScanModified(ctx context.Context, o crmsync.ObjectType, from hubspot.ScanCursor, properties []string, fn func(hubspot.Object) error) (hubspot.ScanCursor, error) {
	f.from = from
	for _, obj := range f.objects {
		if err := fn(obj); err != nil {
			return from, fmt.Errorf("hubspot: scan %s: %w", o, err)
		}
	}
	return from, nil
}

func TestHubSpotSource(t *testing.T) {
	at := time.Date(2026, 5, 4, 10, 0, 0, 123_000_000, time.UTC)
	fake := &fakeScan{objects: []hubspot.Object{
		{ID: "1", Properties: map[string]string{"lastmodifieddate": "2026-05-04T10:00:00.123Z"}},
		{ID: "2", Properties: map[string]string{"lastmodifieddate": strconv.FormatInt(at.UnixMilli(), 10)}},
		{ID: "3", UpdatedAt: at},
	}}
	src := &sweep.HubSpotSource{Client: fake}
	var got []sweep.Change
	err := src.Changes(t.Context(), crmsync.HSContact, crmsync.Cursor{Timestamp: at, LastID: "9"}, func(c sweep.Change) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fake.from != (hubspot.ScanCursor{Modified: at, ID: "9"}) {
		t.Errorf("scan started at %+v, want the cursor", fake.from)
	}
	for i, c := range got {
		if c.Ref != hsContact(strconv.Itoa(i+1)) || !c.Modified.Equal(at) {
			t.Errorf("change %d = %+v, want contact %d modified at %v", i, c, i+1, at)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d changes, want 3", len(got))
	}
}
