package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

type scanObject struct {
	id       int64
	modified time.Time
}

// searchServer is a HubSpot search endpoint for contacts over a fixed set
// of objects, strict where HubSpot is: limit ≤ 200, no page past the
// 10 000-result cap, one sort, and ties of the sort in a random order on
// every request (HubSpot promises no order among ties).
type searchServer struct {
	t       *testing.T
	objects []scanObject
	mu      sync.Mutex
	rng     *rand.Rand
	queries int
}

func (s *searchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req SearchRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.t.Errorf("decode: %v", err)
	}
	s.mu.Lock()
	s.queries++
	rng := rand.New(rand.NewPCG(s.rng.Uint64(), 0))
	s.mu.Unlock()
	after, _ := strconv.Atoi(req.After)
	if req.Limit > MaxSearchLimit || len(req.Sorts) > 1 || after+req.Limit > SearchResultCap {
		s.t.Errorf("request HubSpot refuses: limit %d, sorts %d, after %d", req.Limit, len(req.Sorts), after)
		w.WriteHeader(400)
		fmt.Fprint(w, `{"status":"error","message":"There was a problem with the request.","category":"VALIDATION_ERROR"}`)
		return
	}
	var match []scanObject
	for _, o := range s.objects {
		if s.matches(o, req.FilterGroups) {
			match = append(match, o)
		}
	}
	// Ids are unique, so sorting by id leaves no ties to shuffle.
	byID := len(req.Sorts) == 1 && req.Sorts[0].PropertyName == "hs_object_id" && req.Sorts[0].Direction == "ASCENDING"
	if !byID {
		rng.Shuffle(len(match), func(i, j int) { match[i], match[j] = match[j], match[i] })
	}
	if len(req.Sorts) == 1 && !byID {
		key := func(o scanObject) int64 {
			if req.Sorts[0].PropertyName == "hs_object_id" {
				return o.id
			}
			return o.modified.UnixMilli()
		}
		sort.SliceStable(match, func(i, j int) bool {
			if req.Sorts[0].Direction == "DESCENDING" {
				return key(match[i]) > key(match[j])
			}
			return key(match[i]) < key(match[j])
		})
	}
	page := match[min(after, len(match)):min(after+req.Limit, len(match))]
	results := make([]map[string]any, 0, len(page))
	for _, o := range page {
		ts := o.modified.UTC().Format("2006-01-02T15:04:05.000Z")
		results = append(results, map[string]any{"id": strconv.FormatInt(o.id, 10),
			"properties": map[string]string{"hs_object_id": strconv.FormatInt(o.id, 10), "lastmodifieddate": ts},
			"createdAt":  ts, "updatedAt": ts, "archived": false})
	}
	resp := map[string]any{"total": len(match), "results": results}
	if after+req.Limit < len(match) {
		resp["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(after + req.Limit)}}
	}
	json.NewEncoder(w).Encode(resp)
}

func (s *searchServer) matches(o scanObject, groups []FilterGroup) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range groups {
		ok := true
		for _, f := range g.Filters {
			v, _ := strconv.ParseInt(f.Value, 10, 64)
			var x int64
			switch f.PropertyName {
			case "lastmodifieddate":
				x = o.modified.UnixMilli()
			case "hs_object_id":
				x = o.id
			default:
				s.t.Errorf("filter on %q", f.PropertyName)
			}
			switch f.Operator {
			case "EQ":
				ok = ok && x == v
			case "GT":
				ok = ok && x > v
			case "GTE":
				ok = ok && x >= v
			default:
				s.t.Errorf("operator %q", f.Operator)
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func scanFixture() []scanObject {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var objs []scanObject
	id := int64(2147483000) // ids cross 2^31
	add := func(t time.Time) { id += 1 + rng.Int64N(3); objs = append(objs, scanObject{id, t}) }
	for i := 0; i < 400; i++ { // earlier, with ties of a few
		add(base.Add(time.Duration(rng.IntN(120)) * time.Second))
	}
	for i := 0; i < 30000; i++ { // one import: 30 000 at one millisecond
		add(base.Add(time.Hour))
	}
	for i := 0; i < 450; i++ { // later, with a 250-way tie (more than a page)
		if i < 250 {
			add(base.Add(2 * time.Hour))
		} else {
			add(base.Add(2*time.Hour + time.Duration(i)*time.Millisecond))
		}
	}
	// Kept in id order (ids were handed out ascending) so the server's
	// id-sorted answers need no sort.
	return objs
}

// TestScanModifiedPastTheCap: 30 000 contacts sharing one timestamp (and
// ties around them) are all read exactly once, in (time, id) order,
// without a page past HubSpot's 10 000-result cap.
func TestScanModifiedPastTheCap(t *testing.T) {
	h := newHarness(t, WithSearchRateLimit(0, 0))
	srv := &searchServer{t: t, objects: scanFixture(), rng: rand.New(rand.NewPCG(3, 4))}
	h.mux.Handle("POST "+apiPrefix+"/crm/v3/objects/contacts/search", srv)

	seen := map[string]int{}
	var prev ScanCursor
	cur, err := h.c.ScanModified(context.Background(), crmsync.HSContact, ScanCursor{}, []string{"email"}, func(o Object) error {
		seen[o.ID]++
		at := modifiedAt(&o, "lastmodifieddate")
		if at.Before(prev.Modified) || (at.Equal(prev.Modified) && prev.ID != "" && !idLess(prev.ID, o.ID)) {
			t.Fatalf("out of order: %s@%v after %s@%v", o.ID, at, prev.ID, prev.Modified)
		}
		prev = ScanCursor{Modified: at, ID: o.ID}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(srv.objects) {
		t.Fatalf("read %d distinct objects of %d", len(seen), len(srv.objects))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("object %s read %d times", id, n)
		}
	}
	if cur != prev {
		t.Errorf("returned cursor %+v, last object %+v", cur, prev)
	}
	// Pages of 200 plus one probe per distinct boundary: far below one
	// query per object, and no query loops.
	if srv.queries > len(srv.objects)/MaxSearchLimit+60 {
		t.Errorf("%d search queries for %d objects", srv.queries, len(srv.objects))
	}
	// A scan from the final cursor finds nothing new.
	again := 0
	if _, err := h.c.ScanModified(context.Background(), crmsync.HSContact, cur, nil, func(Object) error { again++; return nil }); err != nil || again != 0 {
		t.Errorf("rescan from the end: %d objects, %v", again, err)
	}
}

// TestScanModifiedResume: a scan stopped in the middle of the 30 000-way
// tie resumes from its cursor and reads the rest exactly once.
func TestScanModifiedResume(t *testing.T) {
	h := newHarness(t, WithSearchRateLimit(0, 0))
	srv := &searchServer{t: t, objects: scanFixture(), rng: rand.New(rand.NewPCG(5, 6))}
	h.mux.Handle("POST "+apiPrefix+"/crm/v3/objects/contacts/search", srv)
	stop := errors.New("stop")
	seen := map[string]int{}
	count := 0
	cur, err := h.c.ScanModified(context.Background(), crmsync.HSContact, ScanCursor{}, nil, func(o Object) error {
		if count == 12345 {
			return stop
		}
		count++
		seen[o.ID]++
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	if cur.ID == "" {
		t.Fatalf("cursor %+v has no id inside the tie", cur)
	}
	if _, err := h.c.ScanModified(context.Background(), crmsync.HSContact, cur, nil, func(o Object) error {
		seen[o.ID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var twice []string
	for id, n := range seen {
		if n != 1 {
			twice = append(twice, id)
		}
	}
	slices.Sort(twice)
	if len(seen) != len(srv.objects) || len(twice) > 0 {
		t.Fatalf("read %d of %d, %d more than once (%v)", len(seen), len(srv.objects), len(twice), twice[:min(5, len(twice))])
	}
}
