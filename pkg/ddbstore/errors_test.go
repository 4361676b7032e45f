package ddbstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/ddbstore"
)

// fakeDynamoDB answers each operation (by X-Amz-Target) with the next of
// its scripted responses, repeating the last. It lets the tests script
// what DynamoDB Local never does: transaction conflicts, throttling, 5xx.
type fakeDynamoDB struct {
	mu      sync.Mutex
	scripts map[string][]response
	calls   map[string]int
}

type response struct {
	status int
	body   string
}

func (f *fakeDynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	f.mu.Lock()
	script := f.scripts[op]
	n := f.calls[op]
	f.calls[op]++
	f.mu.Unlock()
	if len(script) == 0 {
		http.Error(w, "unscripted operation "+op, http.StatusNotImplemented)
		return
	}
	resp := script[min(n, len(script)-1)]
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(resp.status)
	io.WriteString(w, resp.body)
}

func (f *fakeDynamoDB) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func fakeStore(t *testing.T, scripts map[string][]response, opts ...ddbstore.Option) (*ddbstore.Store, *fakeDynamoDB) {
	f := &fakeDynamoDB{scripts: scripts, calls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		RetryMaxAttempts: 1, // the SDK's retries would only slow these tests
	})
	return ddbstore.New(client, "t", opts...), f
}

func apiError(status int, code, message string, extra string) response {
	return response{status, fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q%s}`, code, message, extra)}
}

// cancelled is a TransactionCanceledException with one reason per item;
// "CCF+item" is a ConditionalCheckFailed that returns the old item.
func cancelled(codes ...string) response {
	var reasons []string
	for _, c := range codes {
		switch c {
		case "CCF+item":
			reasons = append(reasons, `{"Code":"ConditionalCheckFailed","Item":{"PK":{"S":"LINK#L1"},"SK":{"S":"LINK"},"version":{"N":"2"}}}`)
		default:
			reasons = append(reasons, fmt.Sprintf(`{"Code":%q}`, c))
		}
	}
	return apiError(400, "TransactionCanceledException", "Transaction cancelled", `,"CancellationReasons":[`+strings.Join(reasons, ",")+`]`)
}

var ok200 = response{200, `{}`}

// storedLink is GetItem's answer for link L1, version 1, HubSpot contact 1
// and Salesforce contact 003A.
func storedLink(t *testing.T) response {
	l := crmsync.Link{ID: "L1", Version: 1,
		HubSpot:    crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"},
		Salesforce: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: "003A"}}
	data, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"Item": map[string]any{
		"PK": map[string]string{"S": "LINK#L1"}, "SK": map[string]string{"S": "LINK"},
		"version": map[string]string{"N": "1"}, "data": map[string]string{"S": string(data)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return response{200, string(body)}
}

var noItem = response{200, `{}`}

func newPair() crmsync.Link {
	return crmsync.Link{
		HubSpot:    crmsync.RecordRef{Side: crmsync.HubSpot, Object: crmsync.HSContact, ID: "1"},
		Salesforce: crmsync.RecordRef{Side: crmsync.Salesforce, Object: crmsync.SFContact, ID: "003A"},
	}
}

// TestCreateLinkCancellation maps CreateLink's cancellation reasons; its
// items are [link, HubSpot ref, Salesforce ref].
func TestCreateLinkCancellation(t *testing.T) {
	for _, c := range []struct {
		name      string
		tx        []response
		want      error // nil: no sentinel
		transient bool
		calls     int
	}{
		{"ref linked", []response{cancelled("None", "ConditionalCheckFailed", "None")}, crmsync.ErrConflict, false, 1},
		{"id in use", []response{cancelled("ConditionalCheckFailed", "None", "None")}, crmsync.ErrConflict, false, 1},
		{"conflict then linked", []response{cancelled("None", "TransactionConflict", "None"), cancelled("None", "None", "ConditionalCheckFailed")}, crmsync.ErrConflict, false, 2},
		{"conflict then success", []response{cancelled("None", "TransactionConflict", "None"), ok200}, nil, false, 2},
		{"conflicts persist", []response{cancelled("None", "TransactionConflict", "None")}, nil, true, 3},
		{"throttled item", []response{cancelled("None", "ThrottlingError", "None")}, nil, true, 1},
		{"validation", []response{cancelled("ValidationError", "None", "None")}, nil, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, f := fakeStore(t, map[string][]response{"TransactWriteItems": c.tx}, ddbstore.WithConflictRetries(2))
			_, err := s.CreateLink(t.Context(), newPair())
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && c.name != "conflict then success" {
				var de *ddbstore.Error
				if !errors.As(err, &de) {
					t.Errorf("err = %v (%T), want a *ddbstore.Error", err, err)
				}
				if errors.Is(err, crmsync.ErrConflict) || errors.Is(err, crmsync.ErrVersionConflict) {
					t.Errorf("err = %v: an undecided transaction must not be reported as a conflict", err)
				}
			}
			if c.name == "conflict then success" && err != nil {
				t.Errorf("err = %v, want success after a retried conflict", err)
			}
			if got := crmsync.IsTransient(err); got != c.transient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, c.transient)
			}
			if n := f.count("TransactWriteItems"); n != c.calls {
				t.Errorf("TransactWriteItems called %d times, want %d", n, c.calls)
			}
		})
	}
}

// TestUpdateLinkCancellation maps a re-point's cancellation reasons; its
// items are [link, release HubSpot 1, claim HubSpot 2].
func TestUpdateLinkCancellation(t *testing.T) {
	for _, c := range []struct {
		name string
		get  []response // GetItem: the read before the write, then the look after a failure
		tx   response
		want error
	}{
		{"new ref linked", []response{storedLink(t)}, cancelled("None", "None", "ConditionalCheckFailed"), crmsync.ErrConflict},
		{"version changed", []response{storedLink(t)}, cancelled("CCF+item", "None", "None"), crmsync.ErrVersionConflict},
		{"version wins over ref", []response{storedLink(t)}, cancelled("CCF+item", "None", "ConditionalCheckFailed"), crmsync.ErrVersionConflict},
		{"old ref moved", []response{storedLink(t)}, cancelled("None", "ConditionalCheckFailed", "None"), crmsync.ErrVersionConflict},
		{"deleted meanwhile", []response{storedLink(t), noItem}, cancelled("ConditionalCheckFailed", "None", "None"), crmsync.ErrNotFound},
		{"changed, old item not returned", []response{storedLink(t)}, cancelled("ConditionalCheckFailed", "None", "None"), crmsync.ErrVersionConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := fakeStore(t, map[string][]response{"GetItem": c.get, "TransactWriteItems": {c.tx}})
			l := newPair()
			l.ID, l.Version = "L1", 1
			l.HubSpot.ID = "2"
			_, err := s.UpdateLink(t.Context(), l)
			if !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if crmsync.IsTransient(err) {
				t.Errorf("IsTransient(%v) = true, want false", err)
			}
		})
	}
}

func TestTransient(t *testing.T) {
	for _, c := range []struct {
		name string
		resp response
		want bool
	}{
		{"throttling", apiError(400, "ThrottlingException", "slow down", ""), true},
		{"throughput", apiError(400, "ProvisionedThroughputExceededException", "slow down", ""), true},
		{"internal error", apiError(500, "InternalServerError", "oops", ""), true},
		{"service unavailable", response{503, `{}`}, true},
		{"validation", apiError(400, "ValidationException", "bad key", ""), false},
		{"missing table", apiError(400, "ResourceNotFoundException", "no table", ""), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := fakeStore(t, map[string][]response{"GetItem": {c.resp}})
			_, err := s.GetSettings(t.Context())
			var de *ddbstore.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a *ddbstore.Error", err, err)
			}
			if got := crmsync.IsTransient(err); got != c.want {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, c.want)
			}
			if errors.Is(err, crmsync.ErrNotFound) {
				t.Errorf("err = %v: a failure must not look like a missing item", err)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", ""), RetryMaxAttempts: 1})
		_, err := ddbstore.New(client, "t").GetSettings(t.Context())
		if err == nil || !crmsync.IsTransient(err) {
			t.Errorf("IsTransient(%v) = false, want true", err)
		}
	})
}
