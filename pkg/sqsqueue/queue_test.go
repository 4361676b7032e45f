package sqsqueue

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/crmsynctest"
)

// newClient returns a client for endpoint with static test credentials.
func newClient(endpoint string, optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   bufferingHTTPClient{awshttp.NewBuildableClient()},
	}, optFns...)
}

// bufferingHTTPClient reads each response body before returning it.
//
// Against fauxqs, with sqs v1.52.11 and smithy-go v1.28.9, about one
// response in a few thousand failed while the SDK read the body of a 200
// ("deserialization failed … use of closed network connection"; plain
// net/http against the same server never did). The SDK then retries the
// call, and for ReceiveMessage that loses the first response's messages
// until their visibility timeout ends, because fauxqs ignores
// ReceiveRequestAttemptId (real SQS answers a retried attempt id with the
// same messages, which is why Receive sets one). That made the suite flaky
// and the benchmark slow; reading the body here made the failure vanish in
// every run tried. It changes nothing the suite checks.
type bufferingHTTPClient struct{ c *awshttp.BuildableClient }

func (b bufferingHTTPClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// freshQueues creates a FIFO queue and its dead-letter queue with unique
// names, deleted when tb ends.
func freshQueues(tb testing.TB, client *sqs.Client, maxReceives int) (queueURL, dlqURL string) {
	tb.Helper()
	name := "crmsync-test-" + strings.ToLower(rand.Text()) + ".fifo"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	queueURL, dlqURL, err := CreateFIFOQueue(ctx, client, name, maxReceives)
	if err != nil {
		tb.Fatalf("CreateFIFOQueue: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, u := range []string{queueURL, dlqURL} {
			if _, err := client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
				tb.Errorf("DeleteQueue %s: %v", u, err)
			}
		}
	})
	return queueURL, dlqURL
}

// TestQueue runs the contract suite against the SQS-compatible server in
// CRMSYNC_TEST_SQS_ENDPOINT (fauxqs 1.9.2 under `make test`).
//
// Deviations of fauxqs 1.9.2 from real SQS FIFO found here:
//   - DeleteMessage with an expired or superseded receipt succeeds silently
//     (and deletes nothing); real SQS FIFO rejects it with
//     InvalidParameterValue "The receipt handle has expired", which this
//     package maps to crmsync.ErrNotFound (tested with a fake server in
//     TestReceiptErrors). Declared as StaleDeleteSucceeds.
//   - ReceiveMessage returns at most one message per group per call; real
//     SQS may return several of a group, in order. The suite does not
//     depend on either.
//   - It ignores ReceiveRequestAttemptId, so a ReceiveMessage the SDK
//     retries after a lost response leaves the first response's messages
//     hidden (see bufferingHTTPClient).
//
// OldestAgeUnknown is not a fauxqs deviation but this package's honest
// answer: SQS has no oldest-age attribute.
func TestQueue(t *testing.T) {
	endpoint := crmsynctest.Endpoint(t, crmsynctest.EnvSQS, "fauxqs", "TestQueue/sqsqueue")
	client := newClient(endpoint)
	crmsynctest.TestQueueWith(t, func(t *testing.T, maxReceives int) (crmsync.Queue, crmsync.Queue) {
		queueURL, dlqURL := freshQueues(t, client, maxReceives)
		return New(client, queueURL), New(client, dlqURL)
	}, crmsynctest.QueueDeviations{StaleDeleteSucceeds: true, OldestAgeUnknown: true})
}

// TestUndecodableAgainstServer sends a body this build cannot decode
// straight to the queue: Receive skips it without error, reports it, and
// it reaches the dead-letter queue through the redrive policy.
func TestUndecodableAgainstServer(t *testing.T) {
	endpoint := crmsynctest.Endpoint(t, crmsynctest.EnvSQS, "fauxqs", "TestUndecodableAgainstServer/sqsqueue")
	client := newClient(endpoint)
	queueURL, dlqURL := freshQueues(t, client, 1)
	ctx := t.Context()
	_, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(queueURL),
		MessageBody:            aws.String(`{"v":99,"trigger":{}}`),
		MessageGroupId:         aws.String("g"),
		MessageDeduplicationId: aws.String("d"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var reported []string
	q := New(client, queueURL, WithUndecodable(func(id string, err error) { reported = append(reported, id) }))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("undecodable message not dead-lettered (reported %d times)", len(reported))
		}
		msgs, err := q.Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if len(msgs) > 0 {
			t.Fatalf("Receive returned an undecodable message: %+v", msgs)
		}
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 {
			if got := aws.ToString(out.Messages[0].Body); got != `{"v":99,"trigger":{}}` {
				t.Errorf("dead-lettered body = %s", got)
			}
			break
		}
	}
	if len(reported) != 1 {
		t.Errorf("undecodable message reported %d times, want 1 (maxReceives)", len(reported))
	}
}

func BenchmarkQueue(b *testing.B) {
	endpoint := crmsynctest.Endpoint(b, crmsynctest.EnvSQS, "fauxqs", "BenchmarkQueue/sqsqueue")
	client := newClient(endpoint)
	crmsynctest.BenchmarkQueue(b, func(b *testing.B) crmsync.Queue {
		queueURL, _ := freshQueues(b, client, 10)
		return New(client, queueURL)
	})
}

func TestRedrive(t *testing.T) {
	endpoint := crmsynctest.Endpoint(t, crmsynctest.EnvSQS, "fauxqs", "TestRedrive/sqsqueue")
	client := newClient(endpoint)
	crmsynctest.TestRedrive(t, func(t *testing.T, maxReceives int) (crmsync.Queue, crmsync.Queue, crmsynctest.RedriveFunc) {
		queueURL, dlqURL := freshQueues(t, client, maxReceives)
		found, err := DeadLetterQueueURL(t.Context(), client, queueURL)
		if err != nil || found != dlqURL {
			t.Fatalf("DeadLetterQueueURL = %q, %v; want %q", found, err, dlqURL)
		}
		return New(client, queueURL), New(client, dlqURL), func(ctx context.Context, since, until time.Time) (int, error) {
			res, err := Redrive(ctx, client, dlqURL, queueURL, since, until)
			return res.Moved, err
		}
	})
}
