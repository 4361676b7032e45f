package sweep_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// joins is a list's memberships in join order, paged as HubSpot pages
// them: paging.next.after only while more results follow.
type joins struct{ ms []hubspot.Membership }

func (j *joins) ListJoins(_ context.Context, _ string, after string, limit int) ([]hubspot.Membership, string, error) {
	from, _ := strconv.Atoi(after)
	to := min(from+limit, len(j.ms))
	next := ""
	if to < len(j.ms) {
		next = strconv.Itoa(to)
	}
	return j.ms[from:to], next, nil
}

// Each poll enqueues the contacts added since the last one — across pages,
// and none again when nobody joined (the last page is read again, as
// HubSpot gives no token past it).
func TestPollInclusionListEnqueuesEachJoinOnce(t *testing.T) {
	h := newHarness(t)
	h.putSettings(t, func(s *crmsync.Settings) { s.InclusionListID = "77" })
	l := &joins{}
	h.sw.Lists = l
	add := func(n int) {
		for range n {
			l.ms = append(l.ms, hubspot.Membership{RecordID: fmt.Sprint(1000 + len(l.ms)), At: t0.Add(time.Duration(len(l.ms)) * time.Second)})
		}
	}
	for _, step := range []struct{ add, want int }{{600, 600}, {0, 0}, {1, 1}, {0, 0}, {300, 300}} {
		add(step.add)
		n, err := h.sw.Poll(t.Context())
		if err != nil || n != step.want {
			t.Fatalf("after %d joins: poll enqueued %d, %v; want %d", len(l.ms), n, err, step.want)
		}
	}
	if got := len(h.rec.take()); got != 901 {
		t.Errorf("%d triggers in all, want one per join (901)", got)
	}
}
