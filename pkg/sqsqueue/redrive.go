package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// redriveVisibility hides what Redrive received from the dead-letter queue
// while it works: long enough for one run over a few thousand messages.
const redriveVisibility = 10 * time.Minute

// RedriveResult counts what Redrive did.
type RedriveResult struct {
	// Moved were sent to the trigger queue and deleted from the
	// dead-letter queue.
	Moved int
	// Skipped were received but dead-lettered outside the time range; they
	// are visible in the dead-letter queue again.
	Skipped int
}

// Redrive moves the messages of the dead-letter queue dlqURL that were
// dead-lettered in [since, until) — a zero time is no bound — back to the
// FIFO queue queueURL.
//
// SQS's StartMessageMoveTask does not take FIFO dead-letter queues, so
// Redrive receives from the dead-letter queue (10 at a time), sends each
// message to the queue in its message group, and deletes it from the
// dead-letter queue only once the send succeeded. The deduplication id
// of a redriven message is made from the dead-lettered message's id
// (RedriveKey, as localqueue does), so the queue does not drop it as a
// repeat of its first send, and a repeated redrive of a message whose
// delete failed is dropped. A body that decodes is re-encoded with that id
// as the trigger's dedupe key, so the engine does not take it for a
// delivery it has seen; another build's body is moved unchanged.
//
// The time a message was dead-lettered is its SentTimestamp in the
// dead-letter queue (SQS FIFO resets it on the move). Messages outside the
// range are made visible again at the end; messages whose send failed
// stay hidden for the visibility timeout Redrive received them with (10
// minutes), then a rerun finds them. In FIFO order a message
// outside the range holds back the later messages of its group: those stay
// in the dead-letter queue too (run Redrive without a range to move them).
func Redrive(ctx context.Context, client *sqs.Client, dlqURL, queueURL string, since, until time.Time) (RedriveResult, error) {
	var res RedriveResult
	skipped := map[string]string{} // message id → receipt
	defer func() {
		// Make the skipped ones visible again, even when ctx is done.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, receipt := range skipped {
			_, _ = client.ChangeMessageVisibility(rctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(dlqURL),
				ReceiptHandle: aws.String(receipt), VisibilityTimeout: 0})
		}
	}()
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(dlqURL),
			MaxNumberOfMessages: maxBatch,
			VisibilityTimeout:   seconds(redriveVisibility, maxVisibility),
			WaitTimeSeconds:     1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameSentTimestamp,
				types.MessageSystemAttributeNameMessageGroupId,
				types.MessageSystemAttributeNameMessageDeduplicationId,
			},
		})
		if err != nil {
			return res, apiError("ReceiveMessage", err)
		}
		if len(out.Messages) == 0 {
			res.Skipped = len(skipped)
			return res, nil
		}
		var move []types.Message
		for _, m := range out.Messages {
			at := sentAt(m)
			if (!since.IsZero() && at.Before(since)) || (!until.IsZero() && !at.Before(until)) {
				skipped[aws.ToString(m.MessageId)] = aws.ToString(m.ReceiptHandle)
				continue
			}
			move = append(move, m)
		}
		if len(move) == 0 {
			continue
		}
		n, err := moveBatch(ctx, client, dlqURL, queueURL, move)
		res.Moved += n
		if err != nil {
			res.Skipped = len(skipped)
			return res, err
		}
	}
}

// moveBatch sends up to 10 dead-lettered messages to the queue and deletes
// those sent from the dead-letter queue; it returns how many were moved.
func moveBatch(ctx context.Context, client *sqs.Client, dlqURL, queueURL string, msgs []types.Message) (int, error) {
	send := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL)}
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		body := aws.ToString(m.Body)
		group := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		dedupe := RedriveKey(m.Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)], id)
		if t, err := crmsync.DecodeTrigger([]byte(body)); err == nil {
			t.DedupeKey = RedriveKey(t.DedupeKey, id)
			dedupe = t.DedupeKey
			if b, err := crmsync.EncodeTrigger(t); err == nil {
				body = string(b)
			}
			if group == "" {
				group = sqsID(t.GroupKey())
			}
		}
		if group == "" {
			return 0, fmt.Errorf("sqsqueue: redrive message %s: no MessageGroupId (is %s a FIFO queue?)", id, dlqURL)
		}
		send.Entries = append(send.Entries, types.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(body),
			MessageGroupId:         aws.String(group),
			MessageDeduplicationId: aws.String(sqsID(dedupe)),
		})
	}
	sent, err := client.SendMessageBatch(ctx, send)
	if err != nil {
		return 0, apiError("SendMessageBatch", err)
	}
	del := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(dlqURL)}
	for _, s := range sent.Successful {
		i, _ := strconv.Atoi(aws.ToString(s.Id))
		del.Entries = append(del.Entries, types.DeleteMessageBatchRequestEntry{Id: s.Id, ReceiptHandle: msgs[i].ReceiptHandle})
	}
	moved := 0
	if len(del.Entries) > 0 {
		out, err := client.DeleteMessageBatch(ctx, del)
		if err != nil {
			// Sent but not deleted: a rerun sends them again with the same
			// deduplication ids, which the queue drops within 5 minutes.
			return 0, apiError("DeleteMessageBatch", err)
		}
		moved = len(out.Successful)
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return moved, &EntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
		}
	}
	if len(sent.Failed) > 0 {
		f := sent.Failed[0]
		return moved, &EntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
	}
	return moved, nil
}

// RedriveKey is the deduplication id of a redriven message: made from its
// dedupe key and the dead-lettered message's id, exactly as
// localqueue.RedriveKey.
func RedriveKey(dedupeKey, messageID string) string {
	return crmsync.DedupeKeyOf("redrive", dedupeKey, messageID)
}

func sentAt(m types.Message) time.Time {
	ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// DeadLetterQueueURL returns the URL of the dead-letter queue of the queue
// at queueURL, from its redrive policy (GetQueueAttributes, GetQueueUrl).
// A queue without one is crmsync.ErrNotFound.
func DeadLetterQueueURL(ctx context.Context, client *sqs.Client, queueURL string) (string, error) {
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return "", apiError("GetQueueAttributes", err)
	}
	var policy struct {
		DeadLetterTargetARN string `json:"deadLetterTargetArn"`
	}
	raw := attrs.Attributes[string(types.QueueAttributeNameRedrivePolicy)]
	if raw == "" {
		return "", fmt.Errorf("sqsqueue: %s has no redrive policy: %w", queueURL, crmsync.ErrNotFound)
	}
	if err := json.Unmarshal([]byte(raw), &policy); err != nil {
		return "", fmt.Errorf("sqsqueue: redrive policy of %s: %w", queueURL, err)
	}
	// arn:aws:sqs:region:account:name
	parts := strings.Split(policy.DeadLetterTargetARN, ":")
	if len(parts) != 6 {
		return "", fmt.Errorf("sqsqueue: redrive policy of %s: dead-letter target %q is not a queue ARN", queueURL, policy.DeadLetterTargetARN)
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5])}
	if parts[4] != "" {
		in.QueueOwnerAWSAccountId = aws.String(parts[4])
	}
	out, err := client.GetQueueUrl(ctx, in)
	if err != nil {
		return "", apiError("GetQueueUrl", err)
	}
	return aws.ToString(out.QueueUrl), nil
}
