package ddbstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/ddbstore"
)

// localClient returns a client for the DynamoDB Local endpoint in
// CRMSYNC_TEST_DYNAMODB_ENDPOINT, or skips tb loudly.
func localClient(tb testing.TB, suite string) *dynamodb.Client {
	tb.Helper()
	ep := crmsynctest.Endpoint(tb, crmsynctest.EnvDynamoDB, "DynamoDB Local", suite)
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ep),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// newTable creates a table with a unique name, deleted when tb ends.
func newTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "crmsync-test-" + hex.EncodeToString(b[:])
	if err := ddbstore.CreateTable(tb.Context(), client, table); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	tb.Cleanup(func() {
		// tb.Context is already cancelled during cleanup.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			tb.Errorf("DeleteTable %s: %v", table, err)
		}
	})
	return table
}

func TestStore(t *testing.T) {
	client := localClient(t, "TestStore/ddbstore")
	crmsynctest.TestStore(t, func(t *testing.T) crmsync.Store {
		return ddbstore.New(client, newTable(t, client))
	})
}

func BenchmarkStore(b *testing.B) {
	client := localClient(b, "BenchmarkStore/ddbstore")
	crmsynctest.BenchmarkStore(b, func(b *testing.B) crmsync.Store {
		return ddbstore.New(client, newTable(b, client))
	})
}

// clock is a settable clock: the store sends its now in conditions and
// filters, so expiry is testable without sleeping even against a server.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSeenExpiryWithClock(t *testing.T) {
	client := localClient(t, "ddbstore TTL tests")
	c := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := ddbstore.New(client, newTable(t, client), ddbstore.WithClock(c.Now))
	ctx := t.Context()
	for i, want := range []bool{false, true} {
		if got, err := s.Seen(ctx, "k", 25*time.Hour); err != nil || got != want {
			t.Fatalf("Seen #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	c.Add(25*time.Hour - time.Second)
	if got, err := s.Seen(ctx, "k", 25*time.Hour); err != nil || !got {
		t.Fatalf("Seen a second before expiry = %v, %v; want true", got, err)
	}
	c.Add(time.Second)
	if got, err := s.Seen(ctx, "k", 25*time.Hour); err != nil || got {
		t.Fatalf("Seen at expiry = %v, %v; want false", got, err)
	}
	if _, err := s.Seen(ctx, "k", 0); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("Seen with ttl 0: err = %v, want ErrInvalid", err)
	}
}

func TestLedgerRetention(t *testing.T) {
	client := localClient(t, "ddbstore TTL tests")
	c := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := ddbstore.New(client, newTable(t, client), ddbstore.WithClock(c.Now), ddbstore.WithLedgerRetention(time.Hour))
	ctx := t.Context()
	for i := range 5 {
		e := crmsync.LedgerEntry{LinkID: "L", At: c.Now(), Result: "ok"}
		if err := s.AppendLedger(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			c.Add(30 * time.Minute) // entries 0 and 1 expire 30 minutes before 2, 3, 4
		}
	}
	list := func() ([]crmsync.LedgerEntry, []int) {
		var all []crmsync.LedgerEntry
		var sizes []int
		var token string
		for range 10 {
			page, next, err := s.ListLedger(ctx, "L", crmsync.PageRequest{Limit: 2, Token: token})
			if err != nil {
				t.Fatal(err)
			}
			all, sizes = append(all, page...), append(sizes, len(page))
			if next == "" {
				break
			}
			token = next
		}
		return all, sizes
	}
	if all, sizes := list(); len(all) != 5 {
		t.Fatalf("within retention: %d entries in pages %v, want 5", len(all), sizes)
	}
	c.Add(45 * time.Minute)
	// Expired items stay in the table (DynamoDB Local never deletes
	// them); the filtered query must still fill its pages.
	if all, sizes := list(); len(all) != 3 || len(sizes) != 2 {
		t.Errorf("after two entries' retention: %d entries in pages %v, want 3 in [2 1]", len(all), sizes)
	}
	c.Add(time.Hour)
	if all, sizes := list(); len(all) != 0 || len(sizes) != 1 {
		t.Errorf("after every entry's retention: %d entries in pages %v, want none in one page", len(all), sizes)
	}
	if err := s.AppendLedger(ctx, crmsync.LedgerEntry{Result: "ok"}); !errors.Is(err, crmsync.ErrInvalid) {
		t.Errorf("AppendLedger without link id: err = %v, want ErrInvalid", err)
	}
}
