package sweep_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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

// newDynamoDBHarness returns a harness on a fresh table in DynamoDB Local
// (CRMSYNC_TEST_DYNAMODB_ENDPOINT), or skips.
func newDynamoDBHarness(t *testing.T) *harness {
	ep := crmsynctest.Endpoint(t, crmsynctest.EnvDynamoDB, "DynamoDB Local", "sweep on ddbstore")
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "crmsync-sweep-test-" + hex.EncodeToString(b[:])
	if err := ddbstore.CreateTable(t.Context(), client, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("DeleteTable %s: %v", table, err)
		}
	})
	return newHarnessOn(t, func(now func() time.Time) crmsync.Store {
		return ddbstore.New(client, table, ddbstore.WithClock(now))
	})
}

// TestOnDynamoDB runs concurrent sweeps, an incremental change and a due
// retry against ddbstore: the lease's conditional writes let one sweep
// work, and the cursors and due listing behave as on bbolt.
func TestOnDynamoDB(t *testing.T) {
	h := newDynamoDBHarness(t)
	var refs []crmsync.RecordRef
	for i := range 300 {
		r := hsContact(fmt.Sprintf("%04d", i))
		put(h.hs, r, t0.Add(-time.Hour), nil)
		refs = append(refs, r)
	}
	h.sw.BatchSize = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ran int
	for range 6 {
		wg.Go(func() {
			rep, err := h.sw.Run(t.Context())
			if err != nil {
				t.Errorf("concurrent Run: %v", err)
			}
			if !rep.Skipped {
				mu.Lock()
				ran++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ran == 0 {
		t.Errorf("no run worked")
	}
	wantSent(t, "6 concurrent runs", h.rec.take(), crmsync.KindSweep, refs...)

	h.clk.Add(time.Minute)
	h.hs.Edit(refs[7], map[string]string{"email": "x@y"})
	failing := crmsync.SyncError{Record: refs[9], Category: crmsync.CategoryOther, Message: "failed",
		FirstSeen: t0, LastSeen: t0, Attempts: 2, NextRetry: t0.Add(10 * time.Minute)}
	if err := h.store.PutSyncError(t.Context(), failing); err != nil {
		t.Fatal(err)
	}
	h.clk.Add(15 * time.Minute)
	h.run(t)
	got := h.rec.take()
	var changed, retried []crmsync.Trigger
	for _, tr := range got {
		if tr.Kind == crmsync.KindSweep {
			changed = append(changed, tr)
		} else {
			retried = append(retried, tr)
		}
	}
	wantSent(t, "after one change", changed, crmsync.KindSweep, refs[7])
	wantSent(t, "due retry", retried, crmsync.KindManualResync, refs[9])
}
