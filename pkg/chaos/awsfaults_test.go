package chaos

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Faults are answered without reaching the server; everything else is
// passed through.
func TestAWSFaults(t *testing.T) {
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	f := NewAWSFaults(1, 1, 1, 1)
	call := func(target, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", target)
		resp, err := f.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := call("DynamoDB_20120810.PutItem", `{}`); code != 400 || !strings.Contains(body, "ProvisionedThroughputExceededException") {
		t.Errorf("PutItem: %d %s", code, body)
	}
	f.Throttle = 0
	code, body := call("DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{},{},{}]}`)
	if code != 400 || !strings.Contains(body, "TransactionCanceledException") || strings.Count(body, `"Code"`) != 3 {
		t.Errorf("TransactWriteItems: %d %s", code, body)
	}
	if code, _ := call("AmazonSQS.DeleteMessage", `{}`); code != 200 {
		t.Errorf("DeleteMessage: %d", code)
	}
	if reached.Load() != 0 {
		t.Fatalf("%d faulted calls reached the server", reached.Load())
	}
	for _, target := range []string{"DynamoDB_20120810.GetItem", "AmazonSQS.ReceiveMessage"} {
		if code, _ := call(target, `{}`); code != 200 {
			t.Errorf("%s: %d", target, code)
		}
	}
	if reached.Load() != 2 {
		t.Errorf("%d calls passed through, want 2", reached.Load())
	}
	if c := f.Counts(); c["dynamodb throttled write"] != 1 || c["dynamodb failed transaction"] != 1 || c["sqs lost delete"] != 1 {
		t.Errorf("counts %v", c)
	}
}
