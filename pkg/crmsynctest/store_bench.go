package crmsynctest

import (
	"fmt"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// BenchmarkStore measures the Store calls on the worker's hot path — link
// get by record, link update, Seen — against stores newStore returns (one
// per sub-benchmark). Besides ns/op it reports ops/s. It asserts nothing
// about speed.
func BenchmarkStore(b *testing.B, newStore func(b *testing.B) crmsync.Store) {
	setup := func(b *testing.B, s crmsync.Store, n int) []crmsync.Link {
		b.Helper()
		links := make([]crmsync.Link, n)
		for i := range links {
			var err error
			links[i], err = s.CreateLink(b.Context(), newLink(fmt.Sprintf("b%d", i), fmt.Sprintf("003B%011d", i)))
			if err != nil {
				b.Fatalf("CreateLink: %v", err)
			}
		}
		return links
	}
	opsPerSecond := func(b *testing.B) {
		if s := b.Elapsed().Seconds(); s > 0 {
			b.ReportMetric(float64(b.N)/s, "ops/s")
		}
	}
	b.Run("LinkGet", func(b *testing.B) {
		s := newStore(b)
		links := setup(b, s, 100)
		for i := 0; b.Loop(); i++ {
			if _, err := s.GetLink(b.Context(), links[i%len(links)].HubSpot); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSecond(b)
	})
	b.Run("LinkGetParallel", func(b *testing.B) {
		s := newStore(b)
		links := setup(b, s, 100)
		b.SetParallelism(8) // network-bound stores serve many callers at once
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := s.GetLink(b.Context(), links[i%len(links)].Salesforce); err != nil {
					b.Error(err)
					return
				}
			}
		})
		opsPerSecond(b)
	})
	b.Run("LinkUpdate", func(b *testing.B) {
		s := newStore(b)
		l := setup(b, s, 1)[0]
		for i := 0; b.Loop(); i++ {
			l.Shadow = map[string]crmsync.FieldShadow{"email=Email": crmsync.NewFieldShadow(fmt.Sprintf("u%d@example.com", i), t0)}
			var err error
			if l, err = s.UpdateLink(b.Context(), l); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSecond(b)
	})
	b.Run("Seen", func(b *testing.B) {
		s := newStore(b)
		for i := 0; b.Loop(); i++ {
			if _, err := s.Seen(b.Context(), fmt.Sprintf("bench-%d", i), 25*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSecond(b)
	})
}
