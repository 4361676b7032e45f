package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
)

// AWSFaults injects the production path's own faults into the HTTP calls
// the AWS SDK makes to DynamoDB Local and fauxqs, below the adapters
// (ddbstore and sqsqueue are used as they are):
//
//   - Throttle: a DynamoDB write (PutItem, UpdateItem, DeleteItem,
//     BatchWriteItem, TransactWriteItems) answered 400
//     ProvisionedThroughputExceededException without reaching the server;
//   - FailTransaction: a TransactWriteItems answered 400
//     TransactionCanceledException with a TransactionConflict reason
//     (nothing written);
//   - LoseDelete: an SQS DeleteMessage answered success without reaching
//     the server: the message comes back after its visibility timeout.
//
// Rates are 0–1, drawn from a seeded source. Safe for concurrent use.
type AWSFaults struct {
	Throttle, FailTransaction, LoseDelete float64
	Base                                  http.RoundTripper

	mu     sync.Mutex
	rng    *rand.Rand
	counts map[string]int
}

// NewAWSFaults returns a transport injecting f's rates over
// http.DefaultTransport.
func NewAWSFaults(seed uint64, throttle, failTx, loseDelete float64) *AWSFaults {
	return &AWSFaults{Throttle: throttle, FailTransaction: failTx, LoseDelete: loseDelete,
		rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)), counts: map[string]int{}}
}

// Counts returns how many faults of each kind were injected.
func (f *AWSFaults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

func (f *AWSFaults) draw(p float64, kind string) bool {
	if p <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= p {
		return false
	}
	f.counts[kind]++
	return true
}

// RoundTrip implements http.RoundTripper.
func (f *AWSFaults) RoundTrip(r *http.Request) (*http.Response, error) {
	base := f.Base
	if base == nil {
		base = http.DefaultTransport
	}
	service, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	switch {
	case strings.HasPrefix(service, "DynamoDB_") && dynamoWrite[op] && f.draw(f.Throttle, "dynamodb throttled write"):
		return answer(r, 400, map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
			"message": "The level of configured provisioned throughput for the table was exceeded."})
	case strings.HasPrefix(service, "DynamoDB_") && op == "TransactWriteItems" && f.draw(f.FailTransaction, "dynamodb failed transaction"):
		n, err := transactItems(r)
		if err != nil {
			return nil, err
		}
		reasons := make([]map[string]string, n)
		for i := range reasons {
			reasons[i] = map[string]string{"Code": "None"}
		}
		reasons[0] = map[string]string{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
		return answer(r, 400, map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
			"message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]", "CancellationReasons": reasons})
	case service == "AmazonSQS" && op == "DeleteMessage" && f.draw(f.LoseDelete, "sqs lost delete"):
		return answer(r, 200, map[string]any{})
	}
	return base.RoundTrip(r)
}

var dynamoWrite = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// transactItems counts the items of a TransactWriteItems request (one
// cancellation reason each), leaving r's body readable.
func transactItems(r *http.Request) (int, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, fmt.Errorf("chaos: read transaction: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ TransactItems []json.RawMessage }
	if err := json.Unmarshal(body, &in); err != nil || len(in.TransactItems) == 0 {
		return 1, nil
	}
	return len(in.TransactItems), nil
}

func answer(r *http.Request, status int, v any) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Header: h,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}
