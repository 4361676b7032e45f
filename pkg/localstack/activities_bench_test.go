package localstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localqueue"
)

// benchWorld starts the bbolt + local queue stack with calls on and one
// synced contact, for the activity benchmarks.
func benchWorld(b *testing.B) (*world, string) {
	b.Helper()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	q := localqueue.New(localqueue.Options{MaxReceives: 10})
	s, err := Start(context.Background(), Config{Store: st, Queue: q, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); st.Close() })
	w := &world{Stack: s, queue: q, store: st}
	settings, err := s.Engine.Settings(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	settings.Activities.Calls = true
	if _, err := st.PutSettings(context.Background(), settings); err != nil {
		b.Fatal(err)
	}
	ct, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ada@example.com", "lastname": "Lovelace"})
	if err != nil {
		b.Fatal(err)
	}
	waitB(b, func() bool {
		_, err := w.store.GetLink(context.Background(), crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: ct.ID})
		return err == nil
	})
	return w, ct.ID
}

// BenchmarkActivityToTask measures the time from a call logged on a synced
// contact in HubSpot to its Task in Salesforce, through the webhook, the
// receiver, the queue and the worker (ms per activity is the latency:
// activities are logged one after the other).
func BenchmarkActivityToTask(b *testing.B) {
	w, contact := benchWorld(b)
	b.ResetTimer()
	for i := range b.N {
		title := fmt.Sprintf("call %d", i)
		if _, err := w.HubSpot.CreateAsUserWith(crmsync.HSCall, map[string]string{"hs_call_title": title},
			map[crmsync.ObjectType][]string{crmsync.HSContact: {contact}}); err != nil {
			b.Fatal(err)
		}
		waitB(b, func() bool { return lastTaskSubject(w) == "Call: "+title })
	}
}

// BenchmarkActivitiesBulk logs CRMSYNC_BENCH_ACTIVITIES calls (1 000 by
// default; the closing note's figure is 10 000) on one synced contact at
// once and waits for every Task: Salesforce and HubSpot API calls per
// activity, and activities per second.
func BenchmarkActivitiesBulk(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("CRMSYNC_BENCH_ACTIVITIES")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		b.StopTimer()
		w, contact := benchWorld(b)
		sf0, _ := w.Salesforce.APIUsage()
		hs0 := w.HubSpot.Calls()
		start := time.Now()
		b.StartTimer()
		for i := range n {
			if _, err := w.HubSpot.CreateAsUserWith(crmsync.HSCall, map[string]string{"hs_call_title": fmt.Sprint(i)},
				map[crmsync.ObjectType][]string{crmsync.HSContact: {contact}}); err != nil {
				b.Fatal(err)
			}
		}
		waitB(b, func() bool { return len(w.Salesforce.Records("Task")) >= n })
		b.StopTimer()
		elapsed := time.Since(start)
		sf1, _ := w.Salesforce.APIUsage()
		b.ReportMetric(float64(sf1-sf0)/float64(n), "sf-calls/activity")
		b.ReportMetric(float64(w.HubSpot.Calls()-hs0)/float64(n), "hs-calls/activity")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "activities/s")
		if got := len(w.Salesforce.Records("Task")); got != n {
			b.Fatalf("%d Tasks for %d activities", got, n)
		}
	}
}

func lastTaskSubject(w *world) string {
	ts := w.Salesforce.Records("Task")
	if len(ts) == 0 {
		return ""
	}
	return fmt.Sprint(ts[len(ts)-1]["Subject"])
}

func waitB(b *testing.B, ok func() bool) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
