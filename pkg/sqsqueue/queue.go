// Package sqsqueue is crmsync's trigger queue on an Amazon SQS FIFO queue
// with a FIFO dead-letter queue (aws-sdk-go-v2, AWS JSON protocol).
//
// Decisions:
//
//   - MessageGroupId is Trigger.GroupKey() and MessageDeduplicationId is
//     Trigger.DedupeKey. SQS allows 1–128 characters of ASCII letters,
//     digits and punctuation in both; a value outside that is replaced by
//     its hex SHA-256 (deterministic, so repeated sends still dedupe). Keys
//     from crmsync.DedupeKeyOf are already 64 hex characters.
//   - The body is crmsync.EncodeTrigger's versioned JSON.
//   - Send uses SendMessageBatch in chunks of 10 (SQS's limit). Failed
//     entries of a partially failed batch are resent, up to the configured
//     number of attempts in all; an entry SQS marks SenderFault is terminal
//     at once. A call that fails as a whole is not repeated here: the SDK's
//     retryer has already retried it. Once a trigger finally failed for a
//     transient reason, later triggers of its group in the same Send are
//     held back (reported as failed, transient) so that a retry by the
//     caller keeps the group's order; dedupe ids make the retry safe. A
//     resent entry can still land after a later entry of its group that was
//     in the same batch and succeeded — accepted, because triggers are
//     hints and the worker re-reads the record.
//   - Receive asks for at most 10 messages (SQS's limit), long-polls for
//     WaitTime (1 s by default), and sets a ReceiveRequestAttemptId so that
//     the SDK's retry of a lost response returns the same messages instead
//     of leaving them hidden. Visibility timeouts are whole seconds, rounded
//     up; a visibility of 0 is the queue's VisibilityTimeout attribute (the
//     SDK omits 0), and so is a wait time of 0 for long polling.
//   - A body that does not decode (another build's encoding version, or
//     garbage) is not returned: it stays hidden for the visibility timeout
//     and is received again until the queue's redrive policy moves it to the
//     dead-letter queue, where an operator can inspect it. Its group waits
//     meanwhile, which keeps the order. WithUndecodable reports each one.
//   - An expired or superseded receipt is crmsync.ErrNotFound. Real SQS FIFO
//     rejects DeleteMessage with an expired receipt (InvalidParameterValue,
//     "The receipt handle has expired") and ChangeMessageVisibility of a
//     message not in flight (MessageNotInflight). fauxqs 1.9.2 accepts such
//     a DeleteMessage silently (and does not delete); see the tests.
//   - Stats reads ApproximateNumberOfMessages and
//     ApproximateNumberOfMessagesNotVisible. SQS has no attribute for the
//     age of the oldest message (CloudWatch's ApproximateAgeOfOldestMessage
//     is the source in AWS), and peeking would mean receiving, which counts
//     toward the redrive limit and blocks the group. So OldestAge is
//     negative ("unknown") whenever the queue is not empty, as the
//     crmsync.QueueStats contract allows.
//   - Errors are *Error (one SQS call: Transient() for throttling, 5xx and
//     connection failures, never for a done context) or *EntryError (one
//     batch entry: transient unless SQS says SenderFault, and then
//     crmsync.ErrInvalid). Error kinds are read from the API error code,
//     without SQS's "AWS.SimpleQueueService." prefix: SQS sends its
//     query-compatible code (x-amzn-query-error), which the SDK reports as
//     ErrorCode() even on its typed errors, and some codes
//     (InvalidParameterValue) have no typed error at all.
package sqsqueue

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// SQS limits.
const (
	maxBatch         = 10
	maxIDLen         = 128
	maxVisibility    = 12 * time.Hour
	maxWaitTime      = 20 * time.Second
	maxReceiveCount  = 1000
	defaultAttempts  = 3
	defaultWaitTime  = time.Second
	defaultBackoff   = 100 * time.Millisecond
	unknownOldestAge = -1 * time.Nanosecond
)

// Queue is a crmsync.Queue on one SQS FIFO queue. It is safe for
// concurrent use.
type Queue struct {
	client       *sqs.Client
	url          string
	wait         time.Duration
	attempts     int
	backoff      time.Duration
	undecodable  func(messageID string, err error)
	receiveAttrs []types.MessageSystemAttributeName
}

var _ crmsync.Queue = (*Queue)(nil)

// Option configures a Queue.
type Option func(*Queue)

// WithWaitTime sets how long Receive long-polls when no message is
// visible (0 to 20 s, in whole seconds; default 1 s).
func WithWaitTime(d time.Duration) Option {
	return func(q *Queue) { q.wait = min(max(d, 0), maxWaitTime) }
}

// WithSendAttempts sets how many times in all Send sends an entry that
// SQS failed for a transient reason (default 3), and the backoff before
// the first resend (doubling after).
func WithSendAttempts(n int, backoff time.Duration) Option {
	return func(q *Queue) {
		q.attempts = max(n, 1)
		q.backoff = max(backoff, 0)
	}
}

// WithUndecodable sets a function Receive calls for each message whose
// body does not decode (the message is left to the redrive policy).
func WithUndecodable(fn func(messageID string, err error)) Option {
	return func(q *Queue) { q.undecodable = fn }
}

// New returns the queue at queueURL, which must be a FIFO queue.
func New(client *sqs.Client, queueURL string, opts ...Option) *Queue {
	q := &Queue{
		client:   client,
		url:      queueURL,
		wait:     defaultWaitTime,
		attempts: defaultAttempts,
		backoff:  defaultBackoff,
		receiveAttrs: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	}
	for _, o := range opts {
		o(q)
	}
	return q
}

// Error is a failed SQS call.
type Error struct {
	// Op is the SQS operation, e.g. "SendMessageBatch".
	Op  string
	Err error
	// notFound marks an invalid or expired receipt (crmsync.ErrNotFound).
	notFound bool
}

func (e *Error) Error() string { return "sqsqueue: " + e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Is reports crmsync.ErrNotFound for an invalid or expired receipt.
func (e *Error) Is(target error) bool { return e.notFound && target == crmsync.ErrNotFound }

// Transient reports throttling, 5xx and connection failures.
func (e *Error) Transient() bool { return transient(e.Err) }

// EntryError is SQS's failure of one entry of a SendMessageBatch.
type EntryError struct {
	Code, Message string
	// SenderFault: the entry itself is wrong (terminal; Is
	// crmsync.ErrInvalid). Otherwise SQS failed and a resend may work.
	SenderFault bool
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("sqsqueue: SendMessageBatch entry: %s: %s", e.Code, e.Message)
}

// Transient reports whether the failure was SQS's, not the entry's.
func (e *EntryError) Transient() bool { return !e.SenderFault }

// Is reports crmsync.ErrInvalid for a sender fault.
func (e *EntryError) Is(target error) bool { return e.SenderFault && target == crmsync.ErrInvalid }

// heldBackError is reported for a trigger not sent because an earlier
// trigger of its group failed transiently in the same Send.
type heldBackError struct{ group string }

func (e *heldBackError) Error() string {
	return "sqsqueue: not sent: an earlier trigger of group " + e.group + " failed"
}

func (e *heldBackError) Transient() bool { return true }

func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true // throttling codes, 500/502/503/504, connection errors
	}
	switch errorCode(err) {
	case "RequestThrottled", "KmsThrottled", "KMS.ThrottlingException", "ServiceUnavailable", "InternalError", "InternalFailure":
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer
}

// errorCode returns the SQS error code of err, without the
// "AWS.SimpleQueueService." prefix that SQS's query-compatible error codes
// (header x-amzn-query-error, which the SDK prefers) carry. Codes are SQS's
// error kinds; not all of them have a typed error in the SDK.
func errorCode(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	return strings.TrimPrefix(ae.ErrorCode(), "AWS.SimpleQueueService.")
}

func apiError(op string, err error) *Error { return &Error{Op: op, Err: err} }

// receiptError is apiError for calls taking a receipt: an invalid or
// expired receipt, or a message no longer in flight, is ErrNotFound.
func receiptError(op string, err error) *Error {
	e := apiError(op, err)
	switch errorCode(err) {
	case "ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidIdFormat":
		e.notFound = true
	case "InvalidParameterValue":
		// The only parameter of these calls that can be invalid is the
		// receipt; SQS FIFO says "The receipt handle has expired" this way.
		e.notFound = true
	}
	return e
}

// sqsID returns s when SQS accepts it as a group or deduplication id, else
// its hex SHA-256.
func sqsID(s string) string {
	ok := len(s) > 0 && len(s) <= maxIDLen
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] > ' ' && s[i] <= '~' // ASCII letters, digits, punctuation
	}
	if ok {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

type entry struct {
	index int
	group string
	in    types.SendMessageBatchRequestEntry
}

// Send validates and enqueues triggers in batches of 10. Failures are
// reported by index in a *crmsync.SendError; see the package doc for
// resends and held-back triggers.
func (q *Queue) Send(ctx context.Context, triggers []crmsync.Trigger) error {
	failed := make(map[int]error)
	var pending []entry
	for i, t := range triggers {
		if err := t.Validate(); err != nil {
			failed[i] = fmt.Errorf("sqsqueue: send: %w", err)
			continue
		}
		body, err := crmsync.EncodeTrigger(t)
		if err != nil {
			failed[i] = fmt.Errorf("sqsqueue: send: %w", err)
			continue
		}
		group := sqsID(t.GroupKey())
		pending = append(pending, entry{index: i, group: group, in: types.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(string(body)),
			MessageGroupId:         aws.String(group),
			MessageDeduplicationId: aws.String(sqsID(t.DedupeKey)),
		}})
	}

	held := make(map[string]bool) // groups with a transient failure
	for len(pending) > 0 {
		var chunk []entry
		rest := pending[:0:0]
		for _, e := range pending {
			switch {
			case held[e.group]:
				failed[e.index] = &heldBackError{group: e.group}
			case len(chunk) < maxBatch:
				chunk = append(chunk, e)
			default:
				rest = append(rest, e)
			}
		}
		pending = rest
		if len(chunk) > 0 {
			q.sendChunk(ctx, chunk, failed, held)
		}
	}
	if len(failed) > 0 {
		return &crmsync.SendError{Failed: failed}
	}
	return nil
}

// sendChunk sends up to 10 entries, resending transient entry failures,
// and records final failures in failed.
func (q *Queue) sendChunk(ctx context.Context, chunk []entry, failed map[int]error, held map[string]bool) {
	fail := func(e entry, err error) {
		failed[e.index] = err
		if crmsync.IsTransient(err) {
			held[e.group] = true
		}
	}
	backoff := q.backoff
	for attempt := 1; ; attempt++ {
		byID := make(map[string]entry, len(chunk))
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url)}
		for _, e := range chunk {
			byID[*e.in.Id] = e
			in.Entries = append(in.Entries, e.in)
		}
		out, err := q.client.SendMessageBatch(ctx, in)
		if err != nil {
			err := apiError("SendMessageBatch", err)
			for _, e := range chunk {
				fail(e, err)
			}
			return
		}
		for _, s := range out.Successful {
			delete(byID, aws.ToString(s.Id))
		}
		var again []entry
		for _, f := range out.Failed {
			e, ok := byID[aws.ToString(f.Id)]
			if !ok {
				continue
			}
			delete(byID, aws.ToString(f.Id))
			ee := &EntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
			if ee.Transient() && attempt < q.attempts {
				again = append(again, e)
				continue
			}
			fail(e, ee)
		}
		for _, e := range byID { // neither successful nor failed: unknown
			if attempt < q.attempts {
				again = append(again, e)
			} else {
				fail(e, &EntryError{Code: "NoResult", Message: "entry missing from the response"})
			}
		}
		if len(again) == 0 {
			return
		}
		// Keep the entries in send order (map iteration above is not).
		chunk = inSendOrder(chunk, again)
		if err := sleep(ctx, backoff); err != nil {
			for _, e := range chunk {
				fail(e, apiError("SendMessageBatch", err))
			}
			return
		}
		backoff *= 2
	}
}

func inSendOrder(chunk, subset []entry) []entry {
	keep := make(map[int]bool, len(subset))
	for _, e := range subset {
		keep[e.index] = true
	}
	var out []entry
	for _, e := range chunk {
		if keep[e.index] {
			out = append(out, e)
		}
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// seconds rounds d up to whole seconds, within [0, limit].
func seconds(d, limit time.Duration) int32 {
	d = min(max(d, 0), limit)
	return int32((d + time.Second - 1) / time.Second)
}

// Receive returns up to max (at most 10) messages; see the package doc for
// long polling and undecodable bodies.
func (q *Queue) Receive(ctx context.Context, max int, visibility time.Duration) ([]crmsync.Message, error) {
	return q.receive(ctx, max, visibility, q.wait)
}

// ReceiveNoWait is Receive without long polling (crmsync.Drainer).
func (q *Queue) ReceiveNoWait(ctx context.Context, max int, visibility time.Duration) ([]crmsync.Message, error) {
	return q.receive(ctx, max, visibility, 0)
}

var _ crmsync.Drainer = (*Queue)(nil)

func (q *Queue) receive(ctx context.Context, max int, visibility, wait time.Duration) ([]crmsync.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("sqsqueue: receive: %w: max %d < 1", crmsync.ErrInvalid, max)
	}
	if visibility < 0 {
		return nil, fmt.Errorf("sqsqueue: receive: %w: negative visibility %s", crmsync.ErrInvalid, visibility)
	}
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(min(max, maxBatch)),
		VisibilityTimeout:           seconds(visibility, maxVisibility),
		WaitTimeSeconds:             seconds(wait, maxWaitTime),
		MessageSystemAttributeNames: q.receiveAttrs,
		ReceiveRequestAttemptId:     aws.String(rand.Text()),
	})
	if err != nil {
		return nil, apiError("ReceiveMessage", err)
	}
	msgs := make([]crmsync.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		t, err := crmsync.DecodeTrigger([]byte(aws.ToString(m.Body)))
		if err != nil {
			if q.undecodable != nil {
				q.undecodable(aws.ToString(m.MessageId), fmt.Errorf("sqsqueue: message %s: %w", aws.ToString(m.MessageId), err))
			}
			continue
		}
		msg := crmsync.Message{Trigger: t, ID: aws.ToString(m.MessageId), Receipt: aws.ToString(m.ReceiptHandle)}
		msg.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msg.SentAt = time.UnixMilli(ms).UTC()
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// Delete deletes the message received with receipt (DeleteMessage).
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receipt)})
	if err != nil {
		return receiptError("DeleteMessage", err)
	}
	return nil
}

// ChangeVisibility sets the message's visibility timeout to d from now,
// rounded up to whole seconds (ChangeMessageVisibility).
func (q *Queue) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("sqsqueue: change visibility: %w: negative duration %s", crmsync.ErrInvalid, d)
	}
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.url),
		ReceiptHandle:     aws.String(receipt),
		VisibilityTimeout: seconds(d, maxVisibility),
	})
	if err != nil {
		return receiptError("ChangeMessageVisibility", err)
	}
	return nil
}

// Stats reads the approximate counts (GetQueueAttributes). OldestAge is
// negative (unknown) unless both counts are 0; see the package doc.
func (q *Queue) Stats(ctx context.Context) (crmsync.QueueStats, error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return crmsync.QueueStats{}, apiError("GetQueueAttributes", err)
	}
	var s crmsync.QueueStats
	for name, dst := range map[types.QueueAttributeName]*int{
		types.QueueAttributeNameApproximateNumberOfMessages:           &s.Visible,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible: &s.InFlight,
	} {
		v, ok := out.Attributes[string(name)]
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return crmsync.QueueStats{}, fmt.Errorf("sqsqueue: GetQueueAttributes: attribute %s = %q: not a count", name, v)
		}
		*dst = n
	}
	if s.Visible+s.InFlight > 0 {
		s.OldestAge = unknownOldestAge
	}
	return s, nil
}

// CreateFIFOQueue creates the FIFO queue name (which must end in ".fifo")
// and its FIFO dead-letter queue (name with "-dlq" before ".fifo"), with a
// redrive policy moving a message to the dead-letter queue on the receive
// after maxReceives (1–1000). It is for tests and local runs; in AWS the
// queues come from template.yaml. Creating queues that exist with the same
// attributes returns their URLs.
func CreateFIFOQueue(ctx context.Context, client *sqs.Client, name string, maxReceives int) (queueURL, dlqURL string, err error) {
	base, ok := strings.CutSuffix(name, ".fifo")
	if !ok || base == "" {
		return "", "", fmt.Errorf("sqsqueue: create queue %q: %w: a FIFO queue name ends in .fifo", name, crmsync.ErrInvalid)
	}
	if maxReceives < 1 || maxReceives > maxReceiveCount {
		return "", "", fmt.Errorf("sqsqueue: create queue %q: %w: maxReceives %d not in 1–%d", name, crmsync.ErrInvalid, maxReceives, maxReceiveCount)
	}
	dlqName := base + "-dlq.fifo"
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(dlqName),
		Attributes: map[string]string{
			string(types.QueueAttributeNameFifoQueue):              "true",
			string(types.QueueAttributeNameMessageRetentionPeriod): "1209600", // 14 days, the maximum
		},
	})
	if err != nil {
		return "", "", apiError("CreateQueue "+dlqName, err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       dlq.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", apiError("GetQueueAttributes "+dlqName, err)
	}
	policy, err := json.Marshal(map[string]string{
		"deadLetterTargetArn": attrs.Attributes[string(types.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     strconv.Itoa(maxReceives),
	})
	if err != nil {
		return "", "", fmt.Errorf("sqsqueue: create queue %s: %w", name, err)
	}
	main, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			string(types.QueueAttributeNameFifoQueue):     "true",
			string(types.QueueAttributeNameRedrivePolicy): string(policy),
		},
	})
	if err != nil {
		return "", "", apiError("CreateQueue "+name, err)
	}
	return aws.ToString(main.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}
