package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

// The store/queue pairs a run can use.
const (
	// BackendBolt is bbolt + the local queue (crmsync local).
	BackendBolt = "bolt+localqueue"
	// BackendAWS is DynamoDB Local + fauxqs through ddbstore and sqsqueue
	// (the production path), with AWSFaults below the SDK.
	BackendAWS = "dynamodb+sqs"
)

// MaxReceives is the queues' receive limit before dead-lettering, as the
// deployed triggers queue has it.
const MaxReceives = 10

// Backend is an open store/queue pair.
type Backend struct {
	Name  string
	Store crmsync.Store
	Queue crmsync.Queue
	// Faults are the AWS faults injected (nil on bbolt).
	Faults *AWSFaults
	// DeadLetters is the SQS dead-letter queue (nil on bbolt: the local
	// queue holds its own).
	DeadLetters crmsync.Queue
	// Table is the DynamoDB table ("" on bbolt); Keep leaves it (and the
	// queues) in place at Close, for `crmsync explain -table`.
	Table string
	Keep  bool
	close func()
}

// Close releases the backend.
func (b *Backend) Close() {
	if b.close != nil && !b.Keep {
		b.close()
	}
}

// OpenBackend opens the store/queue pair name in dir (bbolt) or on the
// servers whose endpoints crmsynctest.EnvDynamoDB and EnvSQS name, as
// `.ci/testservers start` prints them. faults (rates; zero for none) are
// injected on the AWS path.
func OpenBackend(ctx context.Context, name, dir string, seed uint64, faults AWSFaultRates) (*Backend, error) {
	switch name {
	case BackendBolt:
		// Each run starts from an empty store: a file an earlier run left
		// in dir (its evidence) would give the checker stale links.
		path := filepath.Join(dir, "state.db")
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		st, err := boltstore.Open(path)
		if err != nil {
			return nil, err
		}
		return &Backend{Name: name, Store: st, Queue: localqueue.New(localqueue.Options{MaxReceives: MaxReceives}),
			close: func() { st.Close() }}, nil
	case BackendAWS:
		ddbEP, sqsEP := os.Getenv(crmsynctest.EnvDynamoDB), os.Getenv(crmsynctest.EnvSQS)
		if ddbEP == "" || sqsEP == "" {
			return nil, fmt.Errorf("chaos: %s needs %s and %s (eval \"$(.ci/testservers start)\")", name, crmsynctest.EnvDynamoDB, crmsynctest.EnvSQS)
		}
		f := NewAWSFaults(seed, faults.Throttle, faults.FailTransaction, faults.LoseDelete)
		hc := &http.Client{Transport: f, Timeout: 30 * time.Second}
		creds := credentials.NewStaticCredentialsProvider("test", "test", "")
		ddb := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ddbEP), Credentials: creds, HTTPClient: hc})
		stamp := time.Now().UnixNano()
		table := fmt.Sprintf("chaos-%d", stamp)
		if err := ddbstore.CreateTable(ctx, ddb, table); err != nil {
			return nil, fmt.Errorf("chaos: create table: %w", err)
		}
		sq := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(sqsEP), Credentials: creds, HTTPClient: hc})
		url, dlq, err := sqsqueue.CreateFIFOQueue(ctx, sq, fmt.Sprintf("chaos-%d.fifo", stamp), MaxReceives)
		if err != nil {
			return nil, fmt.Errorf("chaos: create queue: %w", err)
		}
		return &Backend{Name: name, Store: ddbstore.New(ddb, table), Queue: sqsqueue.New(sq, url), Faults: f,
			DeadLetters: sqsqueue.New(sq, dlq), Table: table,
			close: func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, _ = ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
				for _, u := range []string{url, dlq} {
					_, _ = sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
				}
			}}, nil
	}
	return nil, fmt.Errorf("chaos: unknown backend %q (want %s or %s)", name, BackendBolt, BackendAWS)
}

// AWSFaultRates are the rates of AWSFaults.
type AWSFaultRates struct {
	Throttle        float64 `json:"dynamodb_throttled_writes"`
	FailTransaction float64 `json:"dynamodb_failed_transactions"`
	LoseDelete      float64 `json:"sqs_lost_deletes"`
}
