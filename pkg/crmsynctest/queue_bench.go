package crmsynctest

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// benchGroups is how many message groups the receive benchmark spreads its
// messages over, so that a receive can return a full batch (per-group
// order allows one message of a group in flight at a time).
const benchGroups = 100

// BenchmarkQueue runs the queue benchmarks every implementation reports:
//
//   - Send10: one Send of 10 triggers (each its own group) per op;
//     reports sends/s and triggers/s.
//   - ReceiveDelete: one message received (in batches of up to 10) and
//     deleted per op, from a queue filled beforehand over 100 groups;
//     reports msgs/s.
//
// newQueue returns a fresh, empty queue (register cleanup on b).
func BenchmarkQueue(b *testing.B, newQueue func(b *testing.B) crmsync.Queue) {
	b.Run("Send10", func(b *testing.B) {
		q := newQueue(b)
		run := rand.Text()
		ctx := b.Context()
		batch := make([]crmsync.Trigger, 10)
		n := 0
		for b.Loop() {
			for i := range batch {
				batch[i] = benchTrigger(run, n%benchGroups, n)
				n++
			}
			if err := q.Send(ctx, batch); err != nil {
				b.Fatalf("Send: %v", err)
			}
		}
		reportRate(b, "sends/s", float64(b.N))
		reportRate(b, "triggers/s", float64(n))
	})
	b.Run("ReceiveDelete", func(b *testing.B) {
		q := newQueue(b)
		run := rand.Text()
		ctx := b.Context()
		fill := make([]crmsync.Trigger, 0, b.N)
		for i := range b.N {
			fill = append(fill, benchTrigger(run, i%benchGroups, i))
		}
		for len(fill) > 0 {
			chunk := fill[:min(len(fill), 500)]
			if err := q.Send(ctx, chunk); err != nil {
				b.Fatalf("Send (fill): %v", err)
			}
			fill = fill[len(chunk):]
		}
		b.ResetTimer()
		done := 0
		deadline := time.Now().Add(10*time.Minute + time.Duration(b.N)*time.Millisecond)
		for done < b.N {
			if time.Now().After(deadline) {
				b.Fatalf("received %d of %d messages before the deadline", done, b.N)
			}
			msgs, err := q.Receive(ctx, 10, time.Minute)
			if err != nil {
				b.Fatalf("Receive: %v", err)
			}
			for _, m := range msgs {
				if err := q.Delete(ctx, m.Receipt); err != nil {
					b.Fatalf("Delete: %v", err)
				}
				done++
			}
		}
		b.StopTimer()
		reportRate(b, "msgs/s", float64(done))
	})
}

func benchTrigger(run string, group, seq int) crmsync.Trigger {
	return crmsync.Trigger{
		Record:     crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: fmt.Sprint(group)},
		Kind:       crmsync.KindPropertyChanged,
		Properties: []string{"email", "phone"},
		OccurredAt: suiteEpoch.Add(time.Duration(seq) * time.Millisecond),
		DeliveryID: fmt.Sprint(seq),
		DedupeKey:  crmsync.DedupeKeyOf("bench", run, fmt.Sprint(seq)),
	}
}

func reportRate(b *testing.B, unit string, n float64) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(n/s, unit)
	}
}
