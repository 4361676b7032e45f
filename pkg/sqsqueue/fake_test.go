package sqsqueue

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// These tests run the SDK against a scripted SQS (AWS JSON protocol,
// mounted under a path prefix) to cover what a real server will not do on
// demand: partial batch failures, throttling and 5xx, expired receipts as
// real SQS FIFO reports them.

const fakePrefix = "/sqs-prefix"

// fakeError is an SQS error response. queryCode goes in x-amzn-query-error,
// as real SQS sends it.
type fakeError struct {
	status    int
	typ       string // __type suffix, e.g. "QueueDoesNotExist"
	queryCode string // e.g. "AWS.SimpleQueueService.NonExistentQueue;Sender"
	message   string
}

type sendEntry struct {
	ID                     string `json:"Id"`
	MessageBody            string
	MessageGroupID         string `json:"MessageGroupId"`
	MessageDeduplicationID string `json:"MessageDeduplicationId"`
}

type fakeSQS struct {
	t  *testing.T
	mu sync.Mutex
	// batches records every SendMessageBatch request's entries.
	batches [][]sendEntry
	// entryFails decides the failure of an entry (nil: success), given the
	// number of the batch call (0-based).
	entryFails func(call int, e sendEntry) *fakeBatchFailure
	// fail, when set for a target ("SendMessageBatch"), fails that call.
	fail map[string]fakeError
	// receive answers ReceiveMessage; it may check the request.
	receive func(req map[string]any) []map[string]any
	// attrs answers GetQueueAttributes.
	attrs map[string]string
}

type fakeBatchFailure struct {
	code        string
	senderFault bool
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, fakePrefix) {
		f.t.Errorf("request to %s, outside the endpoint's path %s", r.URL.Path, fakePrefix)
		http.NotFound(w, r)
		return
	}
	target, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("%s: decode request: %v", target, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if e, ok := f.fail[target]; ok {
		if e.queryCode != "" {
			w.Header().Set("X-Amzn-Query-Error", e.queryCode)
		}
		w.WriteHeader(e.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.typ, "message": e.message})
		return
	}
	var resp any
	switch target {
	case "SendMessageBatch":
		var in struct{ Entries []sendEntry }
		b, _ := json.Marshal(req)
		json.Unmarshal(b, &in)
		call := len(f.batches)
		f.batches = append(f.batches, in.Entries)
		out := map[string][]map[string]any{"Successful": {}, "Failed": {}}
		for _, e := range in.Entries {
			if fl := f.entryFails(call, e); fl != nil {
				out["Failed"] = append(out["Failed"], map[string]any{"Id": e.ID, "Code": fl.code, "SenderFault": fl.senderFault, "Message": "scripted"})
				continue
			}
			out["Successful"] = append(out["Successful"], map[string]any{"Id": e.ID, "MessageId": "m-" + e.ID, "MD5OfMessageBody": md5Hex(e.MessageBody), "SequenceNumber": "1"})
		}
		resp = out
	case "ReceiveMessage":
		msgs := f.receive(req)
		for _, m := range msgs {
			m["MD5OfBody"] = md5Hex(m["Body"].(string))
		}
		resp = map[string]any{"Messages": msgs}
	case "GetQueueAttributes":
		resp = map[string]any{"Attributes": f.attrs}
	case "DeleteMessage", "ChangeMessageVisibility":
		resp = map[string]any{}
	default:
		f.t.Errorf("unexpected call %s", target)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	json.NewEncoder(w).Encode(resp)
}

func newFake(t *testing.T, f *fakeSQS, opts ...Option) *Queue {
	f.t = t
	if f.entryFails == nil {
		f.entryFails = func(int, sendEntry) *fakeBatchFailure { return nil }
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := newClient(srv.URL+fakePrefix, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	return New(client, srv.URL+fakePrefix+"/000000000000/q.fifo", opts...)
}

func fakeTrigger(record string, seq int) crmsync.Trigger {
	return crmsync.Trigger{
		Record:     crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFLead, ID: record},
		Kind:       crmsync.KindCreated,
		OccurredAt: time.Date(2026, 1, 1, 0, 0, seq, 0, time.UTC),
		DeliveryID: fmt.Sprint(seq),
		DedupeKey:  crmsync.DedupeKeyOf(record, fmt.Sprint(seq)),
	}
}

func entryIDs(entries []sendEntry) string {
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return strings.Join(ids, ",")
}

func TestSendBatchesAndResends(t *testing.T) {
	f := &fakeSQS{entryFails: func(call int, e sendEntry) *fakeBatchFailure {
		switch {
		case e.ID == "3" && call == 0:
			return &fakeBatchFailure{code: "InternalError"} // transient once
		case e.ID == "5":
			return &fakeBatchFailure{code: "InvalidMessageContents", senderFault: true}
		}
		return nil
	}}
	q := newFake(t, f, WithSendAttempts(3, time.Millisecond))
	var ts []crmsync.Trigger
	for i := range 25 {
		ts = append(ts, fakeTrigger(fmt.Sprintf("00Q%03d", i), i))
	}
	err := q.Send(t.Context(), ts)

	var se *crmsync.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send = %v, want a *crmsync.SendError", err)
	}
	if len(se.Failed) != 1 || se.Failed[5] == nil {
		t.Fatalf("Failed = %v, want only #5", se.Failed)
	}
	if !errors.Is(se.Failed[5], crmsync.ErrInvalid) || se.Transient() {
		t.Errorf("sender fault: %v (transient %v), want ErrInvalid and terminal", se.Failed[5], se.Transient())
	}
	var got []string
	for _, b := range f.batches {
		got = append(got, entryIDs(b))
	}
	want := []string{"0,1,2,3,4,5,6,7,8,9", "3", "10,11,12,13,14,15,16,17,18,19", "20,21,22,23,24"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("batches sent:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range f.batches[0] {
		var i int
		fmt.Sscan(e.ID, &i)
		if e.MessageGroupID != ts[i].GroupKey() || e.MessageDeduplicationID != ts[i].DedupeKey {
			t.Errorf("entry %s: group %q dedupe %q, want %q %q", e.ID, e.MessageGroupID, e.MessageDeduplicationID, ts[i].GroupKey(), ts[i].DedupeKey)
		}
		if tr, err := crmsync.DecodeTrigger([]byte(e.MessageBody)); err != nil || tr.DeliveryID != ts[i].DeliveryID {
			t.Errorf("entry %s: body decodes to %+v, %v", e.ID, tr, err)
		}
	}
}

func TestSendGivesUpAndHoldsBackGroup(t *testing.T) {
	f := &fakeSQS{entryFails: func(call int, e sendEntry) *fakeBatchFailure {
		if e.ID == "0" {
			return &fakeBatchFailure{code: "ServiceUnavailable"}
		}
		return nil
	}}
	q := newFake(t, f, WithSendAttempts(2, time.Millisecond))
	var ts []crmsync.Trigger
	for i := range 11 {
		ts = append(ts, fakeTrigger(fmt.Sprintf("00Q%03d", i), i))
	}
	ts = append(ts, fakeTrigger("00Q000", 11)) // same group as #0, in the next batch
	err := q.Send(t.Context(), ts)

	var se *crmsync.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send = %v, want a *crmsync.SendError", err)
	}
	if len(se.Failed) != 2 || se.Failed[0] == nil || se.Failed[11] == nil {
		t.Fatalf("Failed = %v, want #0 (gave up) and #11 (held back)", se.Failed)
	}
	if !se.Transient() {
		t.Errorf("SendError of SQS failures is not transient: %v", se)
	}
	var got []string
	for _, b := range f.batches {
		got = append(got, entryIDs(b))
	}
	if want := "0,1,2,3,4,5,6,7,8,9 | 0 | 10"; strings.Join(got, " | ") != want {
		t.Errorf("batches sent: %s, want %s", strings.Join(got, " | "), want)
	}
}

func TestSendCallFails(t *testing.T) {
	f := &fakeSQS{fail: map[string]fakeError{"SendMessageBatch": {status: 500, typ: "InternalError", message: "boom"}}}
	q := newFake(t, f)
	err := q.Send(t.Context(), []crmsync.Trigger{fakeTrigger("00Q1", 1), {Kind: "bogus"}, fakeTrigger("00Q2", 2)})
	var se *crmsync.SendError
	if !errors.As(err, &se) || len(se.Failed) != 3 {
		t.Fatalf("Send = %v, want a SendError for all 3", err)
	}
	if !crmsync.IsTransient(se.Failed[0]) || !crmsync.IsTransient(se.Failed[2]) || crmsync.IsTransient(se.Failed[1]) {
		t.Errorf("Failed = %v: want #0 and #2 transient (500), #1 not (invalid)", se.Failed)
	}
	if se.Transient() {
		t.Errorf("SendError with an invalid trigger says it is transient")
	}
}

func TestErrorsTransient(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       fakeError
		transient bool
	}{
		{"500", fakeError{status: 500, typ: "InternalError", queryCode: "InternalError;Receiver"}, true},
		{"503", fakeError{status: 503, typ: "ServiceUnavailable"}, true},
		{"throttled", fakeError{status: 400, typ: "RequestThrottled", queryCode: "RequestThrottled;Sender"}, true},
		{"throttled, typed only", fakeError{status: 400, typ: "RequestThrottled"}, true},
		{"kms throttled", fakeError{status: 400, typ: "KmsThrottled", queryCode: "KMS.ThrottlingException;Sender"}, true},
		{"no such queue", fakeError{status: 400, typ: "QueueDoesNotExist", queryCode: "AWS.SimpleQueueService.NonExistentQueue;Sender"}, false},
		{"access denied", fakeError{status: 403, typ: "AccessDenied", queryCode: "AccessDenied;Sender"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newFake(t, &fakeSQS{fail: map[string]fakeError{"GetQueueAttributes": tc.err, "ReceiveMessage": tc.err}})
			_, err := q.Stats(t.Context())
			var e *Error
			if !errors.As(err, &e) || e.Op != "GetQueueAttributes" {
				t.Fatalf("Stats = %v, want an *Error for GetQueueAttributes", err)
			}
			if got := crmsync.IsTransient(err); got != tc.transient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.transient)
			}
			if _, err := q.Receive(t.Context(), 1, time.Second); crmsync.IsTransient(err) != tc.transient {
				t.Errorf("Receive: IsTransient(%v) = %v, want %v", err, !tc.transient, tc.transient)
			}
		})
	}
}

func TestReceiptErrors(t *testing.T) {
	expired := fakeError{status: 400, typ: "InvalidParameterValue", queryCode: "InvalidParameterValue;Sender",
		message: "Value AQEB… for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."}
	for _, tc := range []struct {
		name     string
		op       string
		err      fakeError
		notFound bool
	}{
		{"delete expired (SQS FIFO)", "DeleteMessage", expired, true},
		{"delete invalid", "DeleteMessage", fakeError{status: 400, typ: "ReceiptHandleIsInvalid", queryCode: "ReceiptHandleIsInvalid;Sender"}, true},
		{"change expired", "ChangeMessageVisibility", expired, true},
		{"change not in flight", "ChangeMessageVisibility", fakeError{status: 400, typ: "MessageNotInflight", queryCode: "AWS.SimpleQueueService.MessageNotInflight;Sender"}, true},
		{"change not in flight, typed only", "ChangeMessageVisibility", fakeError{status: 400, typ: "MessageNotInflight"}, true},
		{"delete, no such queue", "DeleteMessage", fakeError{status: 400, typ: "QueueDoesNotExist", queryCode: "AWS.SimpleQueueService.NonExistentQueue;Sender"}, false},
		{"delete, 500", "DeleteMessage", fakeError{status: 500, typ: "InternalError"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newFake(t, &fakeSQS{fail: map[string]fakeError{tc.op: tc.err}})
			var err error
			if tc.op == "DeleteMessage" {
				err = q.Delete(t.Context(), "AQEBreceipt")
			} else {
				err = q.ChangeVisibility(t.Context(), "AQEBreceipt", time.Minute)
			}
			if err == nil {
				t.Fatalf("%s succeeded", tc.op)
			}
			if got := errors.Is(err, crmsync.ErrNotFound); got != tc.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, got, tc.notFound)
			}
		})
	}
}

func TestReceiveRequestAndDecoding(t *testing.T) {
	good, _ := crmsync.EncodeTrigger(fakeTrigger("00Q1", 1))
	f := &fakeSQS{receive: func(req map[string]any) []map[string]any {
		if req["MaxNumberOfMessages"] != 10.0 || req["VisibilityTimeout"] != 2.0 || req["WaitTimeSeconds"] != 3.0 {
			t.Errorf("ReceiveMessage max/visibility/wait = %v/%v/%v, want 10/2/3",
				req["MaxNumberOfMessages"], req["VisibilityTimeout"], req["WaitTimeSeconds"])
		}
		if id, _ := req["ReceiveRequestAttemptId"].(string); id == "" {
			t.Errorf("no ReceiveRequestAttemptId")
		}
		if names := fmt.Sprint(req["MessageSystemAttributeNames"]); names != "[ApproximateReceiveCount SentTimestamp]" {
			t.Errorf("MessageSystemAttributeNames = %s", names)
		}
		return []map[string]any{
			{"MessageId": "bad", "ReceiptHandle": "r1", "Body": `{"v":2,"trigger":{}}`,
				"Attributes": map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"}},
			{"MessageId": "good", "ReceiptHandle": "r2", "Body": string(good),
				"Attributes": map[string]string{"ApproximateReceiveCount": "3", "SentTimestamp": "1767225600123"}},
		}
	}}
	var bad []error
	q := newFake(t, f, WithWaitTime(2500*time.Millisecond), WithUndecodable(func(id string, err error) { bad = append(bad, err) }))
	msgs, err := q.Receive(t.Context(), 50, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].ID != "good" || msgs[0].Receipt != "r2" || msgs[0].ReceiveCount != 3 ||
		!msgs[0].SentAt.Equal(time.UnixMilli(1767225600123)) || msgs[0].Trigger.Record.ID != "00Q1" {
		t.Errorf("Receive = %+v, want only the decodable message with its attributes", msgs)
	}
	if len(bad) != 1 || !errors.Is(bad[0], crmsync.ErrUnknownVersion) {
		t.Errorf("undecodable reports = %v, want one ErrUnknownVersion", bad)
	}
}

func TestStatsCounts(t *testing.T) {
	f := &fakeSQS{attrs: map[string]string{"ApproximateNumberOfMessages": "5", "ApproximateNumberOfMessagesNotVisible": "2"}}
	q := newFake(t, f)
	s, err := q.Stats(t.Context())
	if err != nil || s.Visible != 5 || s.InFlight != 2 || s.OldestAge >= 0 {
		t.Errorf("Stats = %+v, %v; want 5 visible, 2 in flight, unknown (negative) age", s, err)
	}
	f.attrs = map[string]string{"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
	if s, err := q.Stats(t.Context()); err != nil || s != (crmsync.QueueStats{}) {
		t.Errorf("Stats of an empty queue = %+v, %v; want zero", s, err)
	}
	f.attrs = map[string]string{"ApproximateNumberOfMessages": "x"}
	if _, err := q.Stats(t.Context()); err == nil {
		t.Errorf("Stats with a malformed count succeeded")
	}
}

func TestSQSID(t *testing.T) {
	long := strings.Repeat("a", 129)
	for _, tc := range []struct{ in, want string }{
		{"hubspot/contact/123", "hubspot/contact/123"},
		{"salesforce/Lead/00Q5g00000AbCdEAAZ", "salesforce/Lead/00Q5g00000AbCdEAAZ"},
		{strings.Repeat("a", 128), strings.Repeat("a", 128)},
		{long, sha256Hex(long)},
		{"hubspot/contact/a b", sha256Hex("hubspot/contact/a b")},
		{"hubspot/contact/é", sha256Hex("hubspot/contact/é")},
	} {
		if got := sqsID(tc.in); got != tc.want {
			t.Errorf("sqsID(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := sqsID(tc.in); len(got) > maxIDLen {
			t.Errorf("sqsID(%q) is %d long", tc.in, len(got))
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
