package hubspot

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Enqueuer is what the webhook receiver needs of the trigger queue;
// crmsync.Queue satisfies it.
type Enqueuer interface {
	// Send enqueues triggers. Any error means some may not be enqueued;
	// the receiver then answers 5xx so HubSpot delivers again (and the
	// queue's dedupe keys drop what did get through).
	Send(ctx context.Context, triggers []crmsync.Trigger) error
}

var _ Enqueuer = crmsync.Queue(nil)

// DefaultMaxBody is the default cap on a webhook body: HubSpot sends at
// most 100 events, far below it.
const DefaultMaxBody = 1 << 20

// WebhookReceiver is the HubSpot webhook endpoint: it caps the body,
// verifies the signature over the raw bytes, parses the events, enqueues
// one trigger per event and acknowledges. It never calls HubSpot.
//
// Responses: 413 over MaxBody; 401 on a missing, wrong, unaccepted or
// expired signature; 400 on a body that is not a JSON array of events;
// 405 on a method other than POST; 503 when the queue fails transiently
// and 500 when it fails otherwise (HubSpot retries both); 204 otherwise.
// Nothing is enqueued on any 4xx.
type WebhookReceiver struct {
	// Secrets are the app's client secrets (several during rotation).
	Secrets []string
	// Versions are the accepted signature versions; nil means v3 only.
	Versions []SignatureVersion
	Queue    Enqueuer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxBody caps the decoded body in bytes (DefaultMaxBody when 0).
	MaxBody int
	// Logger gets one line per rejected request or skipped event
	// (slog.Default when nil).
	Logger *slog.Logger
}

// Handle serves one API Gateway HTTP API v2 or Lambda Function URL
// request. The error is always nil: every outcome is a status code.
func (r *WebhookReceiver) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := r.logger().With("request_id", req.RequestContext.RequestID)
	method := req.RequestContext.HTTP.Method
	if method != http.MethodPost {
		return respond(http.StatusMethodNotAllowed), nil
	}
	body, status := r.body(req)
	if status != 0 {
		log.WarnContext(ctx, "webhook body rejected", "status", status, "bytes", len(req.Body))
		return respond(status), nil
	}
	v := Verifier{Secrets: r.Secrets, Versions: r.Versions}
	sigs := SignaturesFromHeaders(func(name string) string { return header(req.Headers, name) })
	uri := SignedURI(req.RequestContext.DomainName, req.RawPath, req.RawQueryString)
	if err := v.VerifyAny(sigs, method, uri, body, r.now()); err != nil {
		// The query is not logged: webhook URLs sometimes carry tokens.
		log.WarnContext(ctx, "webhook signature rejected", "error", err,
			"domain", req.RequestContext.DomainName, "path", req.RawPath)
		return respond(http.StatusUnauthorized), nil
	}
	evs, err := ParseEvents(body)
	if err != nil {
		log.WarnContext(ctx, "webhook body malformed", "error", err)
		return respond(http.StatusBadRequest), nil
	}
	triggers := make([]crmsync.Trigger, 0, len(evs))
	seen := make(map[string]bool, len(evs))
	for i := range evs {
		t, err := evs[i].Trigger()
		if err != nil {
			level := slog.LevelInfo
			if errors.Is(err, ErrInvalidEvent) {
				level = slog.LevelWarn
			}
			log.Log(ctx, level, "webhook event skipped", "error", err, "event_id", evs[i].EventID,
				"subscription_type", evs[i].SubscriptionType, "attempt", evs[i].AttemptNumber)
			continue
		}
		if seen[t.DedupeKey] {
			continue
		}
		seen[t.DedupeKey] = true
		triggers = append(triggers, t)
	}
	triggers = Coalesce(triggers)
	if len(triggers) > 0 {
		if r.Queue == nil {
			log.ErrorContext(ctx, "webhook receiver has no queue", "triggers", len(triggers))
			return respond(http.StatusInternalServerError), nil
		}
		if err := r.Queue.Send(ctx, triggers); err != nil {
			status := http.StatusInternalServerError
			if crmsync.IsTransient(err) {
				status = http.StatusServiceUnavailable
			}
			log.ErrorContext(ctx, "webhook enqueue failed", "error", err, "triggers", len(triggers), "status", status)
			return respond(status), nil
		}
	}
	log.InfoContext(ctx, "webhook accepted", "events", len(evs), "triggers", len(triggers))
	return respond(http.StatusNoContent), nil
}

// body returns the decoded body, or the status to reject it with.
func (r *WebhookReceiver) body(req events.APIGatewayV2HTTPRequest) ([]byte, int) {
	limit := r.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if !req.IsBase64Encoded {
		if len(req.Body) > limit {
			return nil, http.StatusRequestEntityTooLarge
		}
		return []byte(req.Body), 0
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > limit+2 {
		return nil, http.StatusRequestEntityTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	if len(b) > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	return b, 0
}

func (r *WebhookReceiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *WebhookReceiver) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// header looks name up in h case-insensitively (API Gateway lower-cases
// header names; other callers may not).
func header(h map[string]string, name string) string {
	if v, ok := h[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func respond(status int) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status}
}

// Coalesce merges a delivery's creation and property-change triggers for
// one record into one: HubSpot sends an event per property, so one
// create or edit arrives as five or six, and each would re-read both
// records. The merged trigger is a creation if any was, lists every
// property, keeps the change source only when all agree (so an echo of
// crmsync's own write stays recognisable, and a mix does not), occurred
// at the latest time, and has a dedupe key made of the merged keys (a
// redelivery batched the same way is dropped; batched differently it is
// resolved again, which re-reads and finds no change). Other triggers
// (deletes, merges, associations) pass as they are, in order.
func Coalesce(ts []crmsync.Trigger) []crmsync.Trigger {
	out := make([]crmsync.Trigger, 0, len(ts))
	at := map[crmsync.RecordRef]int{}
	keys := map[crmsync.RecordRef][]string{}
	for _, t := range ts {
		if t.Kind != crmsync.KindPropertyChanged && t.Kind != crmsync.KindCreated {
			out = append(out, t)
			continue
		}
		i, ok := at[t.Record]
		if !ok {
			at[t.Record] = len(out)
			keys[t.Record] = []string{t.DedupeKey}
			out = append(out, t)
			continue
		}
		m := &out[i]
		keys[t.Record] = append(keys[t.Record], t.DedupeKey)
		if t.Kind == crmsync.KindCreated {
			m.Kind = crmsync.KindCreated
		}
		for _, p := range t.Properties {
			if !slices.Contains(m.Properties, p) {
				m.Properties = append(m.Properties, p)
			}
		}
		if m.ChangeSource != t.ChangeSource {
			m.ChangeSource = ""
		}
		if t.OccurredAt.After(m.OccurredAt) {
			m.OccurredAt = t.OccurredAt
		}
	}
	for ref, ks := range keys {
		if len(ks) > 1 {
			slices.Sort(ks)
			out[at[ref]].DedupeKey = crmsync.DedupeKeyOf(append([]string{"coalesced"}, ks...)...)
			out[at[ref]].DeliveryID = ""
		}
	}
	return out
}
