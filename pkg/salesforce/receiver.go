package salesforce

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Enqueuer is what the Outbound Message receiver needs of the trigger
// queue; crmsync.Queue satisfies it.
type Enqueuer interface {
	// Send enqueues triggers. Any error means some triggers may not be
	// queued: the receiver then answers with a fault so Salesforce
	// redelivers the whole message, and the dedupe keys make the
	// redelivered triggers that did get queued harmless.
	Send(ctx context.Context, triggers []crmsync.Trigger) error
}

var _ Enqueuer = crmsync.Queue(nil)

// DefaultMaxBody is the body cap when OutboundReceiver.MaxBody is 0: ample
// for 100 notifications with many fields, well under Lambda's 6 MB.
const DefaultMaxBody = 2 << 20

// OutboundReceiver is the HTTP handler for Outbound Messages behind API
// Gateway (HTTP API, payload v2). It checks the token, caps the body,
// parses, checks the organization, enqueues one trigger per notification
// and only then acknowledges. It never calls Salesforce.
type OutboundReceiver struct {
	// OrgID is the organization whose messages are accepted (15 or 18
	// characters; compared in the 15-character form).
	OrgID string
	// Tokens are the accepted endpoint tokens (several during a rotation,
	// see ParseOutboundTokens). Salesforce cannot sign its messages, so a
	// secret in the endpoint URL is the only proof of origin besides the
	// org id, which is not a secret. When Tokens is not empty, a request
	// must carry one of them as its "token" path parameter
	// (/webhooks/salesforce/{token}; a token query parameter also works).
	Tokens []string
	// Token, when set, is accepted as well as Tokens (a single token).
	Token string
	// RequireToken refuses every request when no token is configured (a 500
	// soapenv:Server fault, so Salesforce keeps the message and retries
	// until the receiver is configured). Deployed receivers set it; only
	// with RequireToken false and no Tokens is a request accepted without
	// a token, on the org id alone (the local stack's receiver).
	RequireToken bool
	// AllowedSources, when not empty, are the address ranges requests
	// may come from (Salesforce's published ranges); the source is the
	// request context's sourceIp, which API Gateway takes from the
	// connection. Others get a 403 Client fault before anything else is
	// looked at.
	AllowedSources []netip.Prefix
	Queue          Enqueuer
	// MaxBody caps the raw body in bytes (0 = DefaultMaxBody).
	MaxBody int
	// Logger is the process's logger (nil = slog.Default()).
	Logger *slog.Logger
	// Now is the clock for notifications without a modification time
	// (nil = time.Now).
	Now func() time.Time
}

// Handle answers one request. The error is always nil: every outcome is a
// SOAP response — 200 with Ack true once the triggers are queued; a
// soapenv:Client fault with 400 (malformed, empty), 401 (token missing or
// wrong), 403 (another org, or a source outside AllowedSources), 405 (not
// POST) or 413 (too large), nothing queued; a soapenv:Server fault with 500
// when queueing failed or the receiver is not configured (no org id, or
// RequireToken without a token), so Salesforce retries.
func (r *OutboundReceiver) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := r.logger()
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		return fault(http.StatusMethodNotAllowed, FaultClient, "outbound messages must be POSTed"), nil
	}
	if len(r.AllowedSources) > 0 && !sourceAllowed(req.RequestContext.HTTP.SourceIP, r.AllowedSources) {
		log.WarnContext(ctx, "salesforce outbound message rejected", "side", crmsync.Salesforce, "reason", "source not allowed",
			"source_ip", req.RequestContext.HTTP.SourceIP)
		return fault(http.StatusForbidden, FaultClient, "source address not allowed"), nil
	}
	tokens := r.tokens()
	if len(tokens) == 0 && r.RequireToken {
		log.ErrorContext(ctx, "salesforce outbound message refused: the receiver has no endpoint token configured", "side", crmsync.Salesforce)
		return fault(http.StatusInternalServerError, FaultServer, "receiver not configured"), nil
	}
	if len(tokens) > 0 && !tokenOK(req, tokens) {
		log.WarnContext(ctx, "salesforce outbound message rejected", "side", crmsync.Salesforce, "reason", "bad token")
		return fault(http.StatusUnauthorized, FaultClient, "invalid endpoint token"), nil
	}
	body, status, msg := r.body(req)
	if status != 0 {
		log.WarnContext(ctx, "salesforce outbound message rejected", "side", crmsync.Salesforce, "reason", msg)
		return fault(status, FaultClient, msg), nil
	}
	om, err := ParseOutboundMessage(body)
	if err != nil {
		log.WarnContext(ctx, "salesforce outbound message rejected", "side", crmsync.Salesforce, "reason", "malformed", "error", err)
		return fault(http.StatusBadRequest, FaultClient, err.Error()), nil
	}
	if r.OrgID == "" {
		log.ErrorContext(ctx, "salesforce outbound receiver has no organization id configured", "side", crmsync.Salesforce)
		return fault(http.StatusInternalServerError, FaultServer, "receiver not configured"), nil
	}
	if !SameID(om.OrganizationID, r.OrgID) {
		log.WarnContext(ctx, "salesforce outbound message rejected", "side", crmsync.Salesforce,
			"reason", "wrong organization", "org_id", om.OrganizationID, "action_id", om.ActionID)
		return fault(http.StatusForbidden, FaultClient, "organization not accepted by this endpoint"), nil
	}
	triggers, skipped := om.Triggers(r.now())
	for _, n := range skipped {
		log.WarnContext(ctx, "salesforce outbound notification for an object type crmsync does not sync; acknowledged and ignored",
			"side", crmsync.Salesforce, "object", n.SObject.Type, "record_id", n.SObject.ID(),
			"notification_id", n.ID, "action_id", om.ActionID)
	}
	if len(triggers) > 0 {
		if err := r.Queue.Send(ctx, triggers); err != nil {
			log.ErrorContext(ctx, "salesforce outbound message not queued; answering a fault so Salesforce retries",
				"side", crmsync.Salesforce, "action_id", om.ActionID, "notifications", len(om.Notifications), "error", err)
			return fault(http.StatusInternalServerError, FaultServer, "notifications could not be queued; retry later"), nil
		}
	}
	log.InfoContext(ctx, "salesforce outbound message queued", "side", crmsync.Salesforce,
		"action_id", om.ActionID, "notifications", len(om.Notifications), "triggers", len(triggers), "skipped", len(skipped))
	return soapResponse(http.StatusOK, AckResponse), nil
}

// sourceAllowed says whether ip is in one of the ranges.
func sourceAllowed(ip string, ranges []netip.Prefix) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, r := range ranges {
		if r.Contains(addr) {
			return true
		}
	}
	return false
}

// tokens lists the accepted tokens.
func (r *OutboundReceiver) tokens() []string {
	if r.Token == "" {
		return r.Tokens
	}
	return append([]string{r.Token}, r.Tokens...)
}

// tokenOK says whether the request's token is one of tokens.
func tokenOK(req events.APIGatewayV2HTTPRequest, tokens []string) bool {
	got, ok := req.PathParameters["token"]
	if !ok {
		got, ok = req.QueryStringParameters["token"]
	}
	if !ok {
		return false
	}
	// Hashing first makes the comparison constant-time in the length too;
	// every token is compared, so the time does not tell which matched.
	a := sha256.Sum256([]byte(got))
	match := 0
	for _, token := range tokens {
		b := sha256.Sum256([]byte(token))
		match |= subtle.ConstantTimeCompare(a[:], b[:])
	}
	return match == 1
}

// body returns the raw body, or a 4xx status and a reason.
func (r *OutboundReceiver) body(req events.APIGatewayV2HTTPRequest) ([]byte, int, string) {
	max := r.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	if !req.IsBase64Encoded {
		if len(req.Body) > max {
			return nil, http.StatusRequestEntityTooLarge, "body too large"
		}
		return []byte(req.Body), 0, ""
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > max+2 {
		return nil, http.StatusRequestEntityTooLarge, "body too large"
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, http.StatusBadRequest, "body is not valid base64"
	}
	if len(b) > max {
		return nil, http.StatusRequestEntityTooLarge, "body too large"
	}
	return b, 0, ""
}

func (r *OutboundReceiver) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func (r *OutboundReceiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func fault(status int, code FaultCode, message string) events.APIGatewayV2HTTPResponse {
	return soapResponse(status, string(FaultResponse(code, message)))
}

func soapResponse(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/xml; charset=utf-8"},
		Body:       body,
	}
}
