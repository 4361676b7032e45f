package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sweep"
)

const localUsage = `usage: crmsync local --sandbox [-data FILE] [-addr A] [-hubspot-addr A] [-salesforce-addr A] [-demo=false] [-once]

Runs the whole stack on this machine: the receivers on local HTTP, the local
queue, the embedded store (a bbolt file), a worker pool and, with --sandbox,
a simulated HubSpot portal and Salesforce org that send their webhooks and
outbound messages to the receivers. Each sync is printed as it happens.
`

// runLocal runs the local stack until ctx ends.
func runLocal(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, localUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	sandbox := fs.Bool("sandbox", false, "run against the built-in HubSpot and Salesforce simulators")
	addr := fs.String("addr", "127.0.0.1:8080", "receivers' listen address")
	hsAddr := fs.String("hubspot-addr", "127.0.0.1:8081", "HubSpot simulator's listen address")
	sfAddr := fs.String("salesforce-addr", "127.0.0.1:8082", "Salesforce simulator's listen address")
	demo := fs.Bool("demo", true, "create one HubSpot contact at start, so a sync happens")
	once := fs.Bool("once", false, "start, run the demo sync, print it and exit")
	sweepEvery := fs.Duration("sweep-every", time.Minute, "how often the sweep runs (AWS: 15m; 0 = never)")
	noWebhooks := fs.Bool("no-webhooks", false, "simulators send no webhooks or outbound messages: only the sweep finds changes")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if !*sandbox {
		fmt.Fprint(out, localUsage)
		return usageError("local: only --sandbox is available in this version: running against real CRMs " +
			"needs the credential wiring of the sync-worker Lambda, which `crmsync local` does not have yet")
	}
	*sf.table = "" // the local stack always uses the embedded store
	store, closeStore, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	queue := localqueue.New(localqueue.Options{MaxReceives: 5})

	p := &printer{out: out, start: time.Now()}
	stack, err := localstack.Start(ctx, localstack.Config{Store: store, Queue: queue, Addr: *addr,
		HubSpotAddr: *hsAddr, SalesforceAddr: *sfAddr, SweepEvery: *sweepEvery, NoWebhooks: *noWebhooks,
		OnSweep:   p.sweep,
		Logger:    slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnOutcome: p.print})
	if err != nil {
		return err
	}
	defer stack.Close()

	fmt.Fprintf(out, "store       %s\n", where)
	fmt.Fprintf(out, "queue       in-process FIFO (dead letter after 5 receives)\n")
	fmt.Fprintf(out, "receivers   POST %s/webhooks/hubspot   POST %s/webhooks/salesforce\n", stack.ReceiverURL, stack.ReceiverURL)
	fmt.Fprintf(out, "hubspot     simulated portal at %s (admin API under /_admin/)\n", stack.HubSpotURL)
	fmt.Fprintf(out, "salesforce  simulated org %s at %s (admin API under /admin/)\n", stack.Salesforce.OrgID(), stack.SalesforceURL)
	fmt.Fprintf(out, "sweep       every %s (0 = off); webhooks %s\n", *sweepEvery, map[bool]string{true: "off", false: "on"}[*noWebhooks])
	fmt.Fprintf(out, "not yet     activities, campaigns, lifecycle stages (later versions)\n\n")
	fmt.Fprintf(out, "Try:\n")
	fmt.Fprintf(out, "  curl -s -XPOST %s/_admin/objects/contacts -d '{\"properties\":{\"email\":\"grace@example.com\",\"firstname\":\"Grace\",\"lastname\":\"Hopper\",\"company\":\"Navy\"}}'\n", stack.HubSpotURL)
	fmt.Fprintf(out, "  curl -s %s/admin/sobjects/Lead\n", stack.SalesforceURL)
	fmt.Fprintf(out, "  curl -s -XPATCH '%s/admin/sobjects/Lead/<Id>' -d '{\"Phone\":\"+1 555 0100\"}'\n\n", stack.SalesforceURL)

	if *demo {
		c, err := stack.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ada@example.com",
			"firstname": "Ada", "lastname": "Lovelace", "company": "Analytical Engines", "phone": "+44 20 7946 0000"})
		if err != nil {
			return fmt.Errorf("demo contact: %w", err)
		}
		fmt.Fprintf(out, "demo        created HubSpot contact %s (ada@example.com); watch it arrive in Salesforce:\n", c.ID)
	}
	if *once {
		return p.waitFor(ctx, func(o engine.Outcome) bool { return o.Decision == engine.DecisionSynced }, 30*time.Second)
	}
	fmt.Fprintln(out, "running     Ctrl-C to stop")
	<-ctx.Done()
	return nil
}

// printer prints one line per resolved trigger: trigger → decision → write.
type printer struct {
	out   io.Writer
	start time.Time

	mu      sync.Mutex
	waiters []func(engine.Outcome)
}

func (p *printer) print(o engine.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var writes []string
	for _, w := range o.Writes {
		var fields []string
		for k, v := range w.Properties {
			fields = append(fields, k+"="+fmt.Sprintf("%q", v))
		}
		writes = append(writes, fmt.Sprintf("%s %s {%s}", w.Op, w.Ref, strings.Join(sorted(fields), " ")))
	}
	line := fmt.Sprintf("%s  %s %s → %s", time.Now().Format("15:04:05.000"), o.Trigger.Record, o.Trigger.Kind, o.Decision)
	if o.Reason != "" {
		line += " (" + o.Reason + ")"
	}
	if len(writes) > 0 {
		line += " → " + strings.Join(writes, "; ")
	}
	fmt.Fprintln(p.out, line)
	for _, w := range p.waiters {
		w(o)
	}
}

// waitFor returns once an outcome satisfies ok, or fails after d.
func (p *printer) waitFor(ctx context.Context, ok func(engine.Outcome) bool, d time.Duration) error {
	done := make(chan struct{})
	var once sync.Once
	p.mu.Lock()
	p.waiters = append(p.waiters, func(o engine.Outcome) {
		if ok(o) {
			once.Do(func() { close(done) })
		}
	})
	p.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return errors.New("local: no sync happened within " + d.String())
	}
}

func (p *printer) sweep(r sweep.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Skipped {
		fmt.Fprintf(p.out, "%s  sweep skipped: %s holds the lease\n", time.Now().Format("15:04:05.000"), r.Holder)
		return
	}
	fmt.Fprintf(p.out, "%s  sweep: %d change(s), %d retry(ies), %d drifted pair(s) enqueued\n",
		time.Now().Format("15:04:05.000"), r.Enqueued()-r.Retries-r.Drift.Drifted, r.Retries, r.Drift.Drifted)
}

func sorted(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
