package hubspotsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
)

// WebhookConfig says where and how the portal sends webhooks.
type WebhookConfig struct {
	// URL is the target ("" = no webhooks). The v3 signature covers it
	// with HubSpot's escapes decoded, as HubSpot signs; an http:// URL (a
	// local receiver) is signed as https://, the only scheme HubSpot
	// delivers to and the one receivers rebuild.
	URL string
	// Secret is the app's client secret the deliveries are signed with.
	Secret string
	// Client sends deliveries (default: 5 s timeout, HubSpot's).
	Client *http.Client
	// MaxBatch is the most events per delivery (default and cap 100).
	MaxBatch int
	// MaxAttempts bounds deliveries of one batch (default and cap 10).
	MaxAttempts int
	// RetryDelay is the wait before the first retry; it doubles after
	// each (default 1 s).
	RetryDelay time.Duration
	// Properties are the propertyChange subscriptions (nil = every
	// property).
	Properties []string
}

// event is one webhook event in HubSpot's shape.
type event struct {
	EventID                 int64   `json:"eventId"`
	SubscriptionID          int64   `json:"subscriptionId"`
	PortalID                int64   `json:"portalId"`
	AppID                   int64   `json:"appId"`
	OccurredAt              int64   `json:"occurredAt"`
	SubscriptionType        string  `json:"subscriptionType"`
	AttemptNumber           int     `json:"attemptNumber"`
	ObjectID                int64   `json:"objectId,omitempty"`
	ObjectTypeID            string  `json:"objectTypeId,omitempty"`
	PropertyName            string  `json:"propertyName,omitempty"`
	PropertyValue           *string `json:"propertyValue,omitempty"`
	ChangeSource            string  `json:"changeSource,omitempty"`
	SourceID                string  `json:"sourceId,omitempty"`
	ChangeFlag              string  `json:"changeFlag,omitempty"`
	PrimaryObjectID         int64   `json:"primaryObjectId,omitempty"`
	MergedObjectIDs         []int64 `json:"mergedObjectIds,omitempty"`
	NewObjectID             int64   `json:"newObjectId,omitempty"`
	NumberOfPropertiesMoved *int    `json:"numberOfPropertiesMoved,omitempty"`
	FromObjectID            int64   `json:"fromObjectId,omitempty"`
	ToObjectID              int64   `json:"toObjectId,omitempty"`
	AssociationType         string  `json:"associationType,omitempty"`
	AssociationRemoved      *bool   `json:"associationRemoved,omitempty"`
	IsPrimaryAssociation    *bool   `json:"isPrimaryAssociation,omitempty"`
}

// Delivery is one webhook POST the portal made.
type Delivery struct {
	At       time.Time `json:"at"`
	Attempt  int       `json:"attempt"`
	Events   int       `json:"events"`
	EventIDs []int64   `json:"eventIds"`
	Status   int       `json:"status"`
	Error    string    `json:"error,omitempty"`
}

type webhookQueue struct {
	p          *Portal
	pending    []event // guarded by p.mu
	sending    sync.Mutex
	logMu      sync.Mutex
	deliveries []Delivery
}

func newWebhookQueue(p *Portal) *webhookQueue { return &webhookQueue{p: p} }

var subscriptionIDs = map[string]int64{"creation": 22, "deletion": 23, "propertyChange": 25, "merge": 26,
	"associationChange": 27, "restore": 28, "privacyDeletion": 29}

// legacy reports whether o has legacy subscription types
// ("contact.creation"); the others use generic "object.*" types.
func legacy(o crmsync.ObjectType) bool {
	return o == crmsync.HSContact || o == crmsync.HSCompany || o == crmsync.HSDeal
}

func parseID(id string) int64 { n, _ := strconv.ParseInt(id, 10, 64); return n }

// newEvent starts an event of action on an object of type o; p.mu held.
func (p *Portal) newEvent(o crmsync.ObjectType, action string, src source) event {
	p.eventID++
	e := event{EventID: p.eventID, SubscriptionID: subscriptionIDs[action], PortalID: p.cfg.PortalID, AppID: p.cfg.AppID,
		OccurredAt: p.now().UnixMilli(), ChangeSource: src.changeSource, SourceID: src.sourceID}
	if legacy(o) {
		e.SubscriptionType = string(o) + "." + action
	} else {
		e.SubscriptionType = "object." + action
		e.ObjectTypeID = hubspot.ObjectTypeID(o)
	}
	return e
}

// emit queues an event for a change of one object; p.mu is held.
func (p *Portal) emit(o crmsync.ObjectType, action, id, prop string, src source, value *string) {
	if p.cfg.Webhook.URL == "" {
		return
	}
	if action == "propertyChange" && p.cfg.Webhook.Properties != nil && !slices.Contains(p.cfg.Webhook.Properties, prop) {
		return
	}
	e := p.newEvent(o, action, src)
	e.ObjectID = parseID(id)
	if action == "creation" {
		e.ChangeFlag = "NEW"
	}
	if action == "propertyChange" {
		e.PropertyName, e.PropertyValue = prop, value
	}
	p.hooks.pending = append(p.hooks.pending, e)
}

// queue adds a prepared event; p.mu is held.
func (p *Portal) queue(e event) {
	if p.cfg.Webhook.URL != "" {
		p.hooks.pending = append(p.hooks.pending, e)
	}
}

// Pending returns the number of events not yet delivered.
func (p *Portal) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hooks.pending)
}

// Deliveries returns every webhook POST made so far.
func (p *Portal) Deliveries() []Delivery {
	p.hooks.logMu.Lock()
	defer p.hooks.logMu.Unlock()
	return slices.Clone(p.hooks.deliveries)
}

// FlushWebhooks delivers every pending event now, in batches of at most
// MaxBatch, each retried (attemptNumber 1, 2, …) until a 2xx or
// MaxAttempts. Batches that never got a 2xx are dropped, as HubSpot drops
// them; the error says how many events were. One flush runs at a time.
func (p *Portal) FlushWebhooks(ctx context.Context) error {
	q := p.hooks
	q.sending.Lock()
	defer q.sending.Unlock()
	p.mu.Lock()
	events := q.pending
	q.pending = nil
	p.mu.Unlock()
	cfg := p.cfg.Webhook
	size := cfg.MaxBatch
	if size <= 0 || size > 100 {
		size = 100
	}
	dropped := 0
	for lo := 0; lo < len(events); lo += size {
		batch := events[lo:min(lo+size, len(events))]
		if !p.deliver(ctx, batch) {
			dropped += len(batch)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if dropped > 0 {
		return fmt.Errorf("hubspotsim: %d webhook events dropped after %d attempts", dropped, p.maxAttempts())
	}
	return nil
}

func (p *Portal) maxAttempts() int {
	n := p.cfg.Webhook.MaxAttempts
	if n <= 0 || n > 10 {
		n = 10
	}
	return n
}

// deliver sends one batch until a 2xx; it reports success.
func (p *Portal) deliver(ctx context.Context, batch []event) bool {
	cfg := p.cfg.Webhook
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	delay := cfg.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	for attempt := 0; attempt < p.maxAttempts(); attempt++ {
		p.mu.Lock()
		f := p.faults
		reorder := p.rng.Float64() < f.ReorderWebhook
		dup := p.rng.Float64() < f.DuplicateWebhook
		send := slices.Clone(batch)
		if reorder {
			p.rng.Shuffle(len(send), func(i, j int) { send[i], send[j] = send[j], send[i] })
		}
		p.mu.Unlock()
		for i := range send {
			send[i].AttemptNumber = attempt
		}
		ok := p.post(ctx, client, send, attempt)
		if ok && dup {
			p.post(ctx, client, send, attempt)
		}
		if ok {
			return true
		}
		if attempt+1 < p.maxAttempts() {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(delay << attempt):
			}
		}
	}
	return false
}

func (p *Portal) post(ctx context.Context, client *http.Client, events []event, attempt int) bool {
	body, _ := json.Marshal(events)
	cfg := p.cfg.Webhook
	ts := strconv.FormatInt(p.cfg.Now().UnixMilli(), 10)
	d := Delivery{At: p.cfg.Now(), Attempt: attempt, Events: len(events)}
	for _, e := range events {
		d.EventIDs = append(d.EventIDs, e.EventID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor")
		req.Header.Set(hubspot.HeaderRequestTimestamp, ts)
		req.Header.Set(hubspot.HeaderSignatureV3, hubspot.SignV3(cfg.Secret, http.MethodPost, signedURL(cfg.URL), body, ts))
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
	}
	if err != nil {
		d.Error = strings.ReplaceAll(err.Error(), cfg.URL, "<url>")
	}
	p.hooks.logMu.Lock()
	p.hooks.deliveries = append(p.hooks.deliveries, d)
	p.hooks.logMu.Unlock()
	return err == nil && d.Status >= 200 && d.Status < 300
}

// Run flushes pending webhooks every interval until ctx is done (for a
// long-running portal, e.g. `make run`). Drops are reported to onDrop.
func (p *Portal) Run(ctx context.Context, interval time.Duration, onDrop func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.FlushWebhooks(ctx); err != nil && ctx.Err() == nil && onDrop != nil {
				onDrop(err)
			}
		}
	}
}

// signedURL is the URI a delivery to target is signed over: HubSpot only
// delivers to https URLs and receivers rebuild the URI with "https://", so
// a local http target is signed as its https twin; HubSpot's listed
// escapes are decoded, as HubSpot does before signing.
func signedURL(target string) string {
	if rest, ok := strings.CutPrefix(target, "http://"); ok {
		target = "https://" + rest
	}
	return hubspot.DecodeSignedURI(target)
}
