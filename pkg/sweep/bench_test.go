package sweep_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/sweep"
)

type discard struct{}

func (discard) Send(context.Context, []crmsync.Trigger) error { return nil }

// BenchmarkSweep25000 sweeps 25 000 HubSpot contacts on one timestamp
// from the fake source, with cursors in bbolt, into a fresh local queue
// ("localqueue") or nowhere ("discard", the sweep's own cost). It reports
// records enqueued per second and asserts nothing about speed.
func BenchmarkSweep25000(b *testing.B) {
	const n = 25000
	for _, name := range []string{"discard", "localqueue"} {
		b.Run(name, func(b *testing.B) {
			h := newHarness(b)
			for i := range n {
				put(h.hs, hsContact(fmt.Sprintf("%06d", i)), t0.Add(-time.Hour), nil)
			}
			h.sw.Sources = map[crmsync.Side]sweep.Source{crmsync.HubSpot: h.hsSrc}
			h.sw.DriftLimit = -1
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if err := h.store.PutCursor(b.Context(), crmsync.Cursor{Side: crmsync.HubSpot, Object: crmsync.HSContact}); err != nil {
					b.Fatal(err)
				}
				h.sw.Queue = discard{}
				if name == "localqueue" {
					h.sw.Queue = localqueue.New(localqueue.Options{Clock: h.clk.Now})
				}
				b.StartTimer()
				rep, err := h.sw.Run(b.Context())
				if err != nil || rep.Enqueued() != n {
					b.Fatalf("Run: %d enqueued, %v", rep.Enqueued(), err)
				}
			}
			if s := b.Elapsed().Seconds(); s > 0 {
				b.ReportMetric(float64(n*b.N)/s, "records/s")
			}
		})
	}
}
