package salesforcesim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// OutboundRule is an outbound message set up on an object: when a record
// is created (and, with OnUpdate, whenever it is edited so that a field
// other than a formula or system field changes), a notification carrying
// Id and Fields is queued for URL.
type OutboundRule struct {
	Name     string
	Object   string
	OnUpdate bool
	Fields   []string
	URL      string

	actionID string
}

// OutboundOptions shape delivery.
type OutboundOptions struct {
	// MaxPerMessage caps notifications per message (default and at most 100).
	MaxPerMessage int
	// Duplicate delivers every notification a second time after it was
	// acknowledged (Salesforce delivers at least once).
	Duplicate bool
	// Reorder shuffles the notifications within each message (seeded).
	Reorder bool
	// Backoff is the wait before retry attempt n (1, 2, …) after a
	// delivery without Ack true. Default: 15 s doubling, at most 2 h.
	Backoff func(attempt int) time.Duration
	// MaxAge is how long a notification is retried (default 24 h).
	MaxAge time.Duration
	// Client sends the messages (default: 10 s timeout).
	Client *http.Client
}

// Delivery is one POST of an Outbound Message.
type Delivery struct {
	At              time.Time
	Rule            string
	URL             string
	NotificationIDs []string
	Attempt         int // highest attempt number among the notifications
	Status          int
	Ack             bool
	Err             string
}

type notification struct {
	id       string
	rule     *OutboundRule
	sobject  salesforce.SObject
	queued   time.Time
	attempts int
	next     time.Time
	dupSent  bool
}

type outboundState struct {
	rules   []*OutboundRule
	opts    OutboundOptions
	pending []*notification
	seq     int
	log     []Delivery
	expired []string
}

// AddOutboundRule sets up an outbound message.
func (o *Org) AddOutboundRule(r OutboundRule) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outbound.seq++
	r.actionID = salesforce.ID18(fmt.Sprintf("04k5e%010d", o.outbound.seq))
	o.outbound.rules = append(o.outbound.rules, &r)
}

// SetOutboundOptions sets delivery options.
func (o *Org) SetOutboundOptions(opts OutboundOptions) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outbound.opts = opts
}

// PendingOutbound returns the number of notifications not yet acknowledged.
func (o *Org) PendingOutbound() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.outbound.pending)
}

// Deliveries returns every delivery attempt so far, oldest first.
func (o *Org) Deliveries() []Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Delivery(nil), o.outbound.log...)
}

// ExpiredOutbound returns the ids of notifications given up after MaxAge.
func (o *Org) ExpiredOutbound() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.outbound.expired...)
}

// wireText is a field value as Outbound Messages carry it.
func wireText(f *Field, v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case string:
		if f.Type == TypeDateTime {
			if t, err := salesforce.ParseTime(x); err == nil {
				return t.UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		return x
	}
	return fmt.Sprint(v)
}

// notify queues notifications for a saved record; called with o.mu held.
func (o *Org) notify(r *record, created bool, changed []string) {
	for _, rule := range o.outbound.rules {
		if rule.Object != r.obj.Name || (!created && (!rule.OnUpdate || len(changed) == 0)) {
			continue
		}
		so := salesforce.SObject{Type: r.obj.Name, Fields: []salesforce.Field{{Name: "Id", Value: r.id()}}}
		for _, name := range rule.Fields {
			f, ok := r.obj.Field(name)
			if !ok || name == "Id" {
				continue
			}
			v := r.fields[name]
			if v == nil {
				so.Fields = append(so.Fields, salesforce.Field{Name: name, Nil: true})
				continue
			}
			so.Fields = append(so.Fields, salesforce.Field{Name: name, Value: wireText(f, v)})
		}
		o.outbound.seq++
		now := o.cfg.Now()
		o.outbound.pending = append(o.outbound.pending, &notification{
			id: salesforce.ID18(fmt.Sprintf("04l5e%010d", o.outbound.seq)), rule: rule, sobject: so, queued: now, next: now,
		})
	}
}

func (opts OutboundOptions) backoff(n int) time.Duration {
	if opts.Backoff != nil {
		return opts.Backoff(n)
	}
	d := 15 * time.Second << min(n-1, 20)
	return min(d, 2*time.Hour)
}

// DeliverOutbound POSTs every notification that is due, at most
// MaxPerMessage per message, and returns how many were acknowledged.
// Unacknowledged ones are retried after the back-off; ones older than
// MaxAge are given up. Time is the org's clock, so tests compress it.
func (o *Org) DeliverOutbound(ctx context.Context) (int, error) {
	o.mu.Lock()
	opts := o.outbound.opts
	perMessage := opts.MaxPerMessage
	if perMessage <= 0 || perMessage > salesforce.MaxNotifications {
		perMessage = salesforce.MaxNotifications
	}
	maxAge := opts.MaxAge
	if maxAge == 0 {
		maxAge = 24 * time.Hour
	}
	now := o.cfg.Now()
	var keep []*notification
	byRule := map[*OutboundRule][]*notification{}
	var order []*OutboundRule
	for _, n := range o.outbound.pending {
		if now.Sub(n.queued) > maxAge {
			o.outbound.expired = append(o.outbound.expired, n.id)
			continue
		}
		keep = append(keep, n)
		if n.next.After(now) {
			continue
		}
		if byRule[n.rule] == nil {
			order = append(order, n.rule)
		}
		byRule[n.rule] = append(byRule[n.rule], n)
	}
	o.outbound.pending = keep
	type batch struct {
		rule  *OutboundRule
		notes []*notification
	}
	var batches []batch
	for _, rule := range order {
		notes := byRule[rule]
		if opts.Reorder {
			o.rng.Shuffle(len(notes), func(i, j int) { notes[i], notes[j] = notes[j], notes[i] })
		}
		for len(notes) > 0 {
			k := min(perMessage, len(notes))
			batches = append(batches, batch{rule: rule, notes: notes[:k]})
			notes = notes[k:]
		}
	}
	instance := o.instanceURL
	if instance == "" {
		instance = "https://sim.my.salesforce.com"
	}
	org := o.cfg.OrgID
	o.mu.Unlock()

	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	acked := 0
	for _, b := range batches {
		m := &salesforce.OutboundMessage{OrganizationID: org, ActionID: b.rule.actionID,
			EnterpriseURL: instance + "/services/Soap/c/62.0/" + salesforce.ID15(org),
			PartnerURL:    instance + "/services/Soap/u/62.0/" + salesforce.ID15(org)}
		d := Delivery{At: now, Rule: b.rule.Name, URL: b.rule.URL}
		for _, n := range b.notes {
			m.Notifications = append(m.Notifications, salesforce.Notification{ID: n.id, SObject: n.sobject})
			d.NotificationIDs = append(d.NotificationIDs, n.id)
			d.Attempt = max(d.Attempt, n.attempts+1)
		}
		d.Status, d.Ack, d.Err = post(ctx, client, b.rule.URL, m.MarshalSOAP())
		o.mu.Lock()
		o.outbound.log = append(o.outbound.log, d)
		done := map[*notification]bool{}
		for _, n := range b.notes {
			n.attempts++
			switch {
			case !d.Ack:
				n.next = now.Add(opts.backoff(n.attempts))
			case opts.Duplicate && !n.dupSent:
				n.dupSent, n.next = true, now
				acked++
			default:
				done[n] = true
				if !n.dupSent {
					acked++
				}
			}
		}
		rest := o.outbound.pending[:0]
		for _, n := range o.outbound.pending {
			if !done[n] {
				rest = append(rest, n)
			}
		}
		o.outbound.pending = rest
		o.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return acked, err
		}
	}
	return acked, nil
}

func post(ctx context.Context, client *http.Client, url string, body []byte) (int, bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, false, err.Error()
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	ack, err := salesforce.ParseAck(b)
	if err != nil {
		return resp.StatusCode, false, err.Error()
	}
	return resp.StatusCode, ack && resp.StatusCode == http.StatusOK, ""
}

// RunOutbound delivers due notifications every interval until ctx ends.
func (o *Org) RunOutbound(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = o.DeliverOutbound(ctx)
		}
	}
}
