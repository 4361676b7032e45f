package salesforcesim

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// The sweep's keyset query: parentheses in WHERE and a two-field ORDER BY
// with the id breaking timestamp ties.
func TestSOQLKeysetPaging(t *testing.T) {
	s := newSim(t, Config{})
	var ids []string
	for range 5 {
		id, err := s.org.CreateAs("", "Lead", map[string]any{"LastName": "K", "Company": "C"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// Three of them on one timestamp, the others a second later
	// (Salesforce compares date-times to the second).
	s.org.mu.Lock()
	stamp := s.org.records[ids[0]].fields["SystemModstamp"]
	for _, id := range ids[1:3] {
		s.org.records[id].fields["SystemModstamp"] = stamp
	}
	at, _ := salesforce.ParseTime(stamp.(string))
	for _, id := range ids[3:] {
		s.org.records[id].fields["SystemModstamp"] = formatTime(at.Add(time.Second))
	}
	s.org.mu.Unlock()
	s.clock.Add(time.Minute)
	c := s.client(t, "")
	ts := stamp.(string)[:19] + "Z"
	q := "SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > " + ts +
		" OR (SystemModstamp = " + ts + " AND Id > '" + ids[0] + "') ORDER BY SystemModstamp, Id LIMIT 10"
	res, err := c.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Records {
		got = append(got, r.ID)
	}
	want := append([]string{}, ids[1:3]...)
	slices.Sort(want)
	want = append(want, ids[3:]...)
	if !slices.Equal(got, want) {
		t.Errorf("keyset page = %v, want %v", got, want)
	}
	// ORDER BY with DESC on the second key.
	res, err = c.Query(context.Background(), "SELECT Id FROM Lead WHERE (LastName = 'K') ORDER BY SystemModstamp ASC, Id DESC LIMIT 3")
	if err != nil {
		t.Fatal(err)
	}
	first := append([]string{}, ids[:3]...)
	slices.Sort(first)
	slices.Reverse(first)
	for i, r := range res.Records {
		if r.ID != first[i] {
			t.Errorf("row %d = %s, want %s", i, r.ID, first[i])
		}
	}
	for _, bad := range []string{"SELECT Id FROM Lead WHERE (LastName = 'K'", "SELECT Id FROM Lead ORDER BY Nope"} {
		if _, err := c.Query(context.Background(), bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
