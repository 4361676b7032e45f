package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/crmsync/crmsync/pkg/crmclients"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sweep"
)

const localUsage = `usage: crmsync local [--sandbox] [-data FILE] [-addr A] [-sweep-every D] [-hubspot-addr A] [-salesforce-addr A] [-demo=false] [-once]

Runs the whole stack on this machine: the receivers on local HTTP, the local
queue, the embedded store (a bbolt file), a worker pool, the sweep and, with
--sandbox, a simulated HubSpot portal and Salesforce org that send their
webhooks and outbound messages to the receivers. Each sync is printed as it
happens.

Without --sandbox it runs against real CRMs, with credentials from the
environment (the same JSON as the Lambdas' secrets):

  CRMSYNC_HUBSPOT_CREDENTIALS     {"private_app_token": …} or {"client_id", "client_secret", "refresh_token"}
  CRMSYNC_SALESFORCE_CREDENTIALS  {"login_url", "client_id", "username", "private_key"} or a refresh-token form
  CRMSYNC_SALESFORCE_ORG_ID       the org outbound messages must come from
  CRMSYNC_HUBSPOT_WEBHOOK_SECRET  the HubSpot app's client secret(s), comma-separated (optional)
  HUBSPOT_BASE_URL, SALESFORCE_INSTANCE_URL, SALESFORCE_CLIENT_ID, CRMSYNC_HTTP_TIMEOUT as for the Lambdas
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
	*sf.table = "" // the local stack always uses the embedded store
	store, closeStore, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	queue := localqueue.New(localqueue.Options{MaxReceives: 5})
	var real *localstack.Real
	if !*sandbox {
		if real, err = realCRMs(ctx, os.Getenv, store); err != nil {
			fmt.Fprint(out, localUsage)
			return err
		}
	}

	p := &printer{out: out, start: time.Now()}
	stack, err := localstack.Start(ctx, localstack.Config{Store: store, Queue: queue, Addr: *addr,
		HubSpotAddr: *hsAddr, SalesforceAddr: *sfAddr, SweepEvery: *sweepEvery, NoWebhooks: *noWebhooks, Real: real,
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
	if real != nil {
		fmt.Fprintf(out, "hubspot     real portal (the sweep finds changes; webhooks reach %s/webhooks/hubspot only through a tunnel you set up)\n", stack.ReceiverURL)
		fmt.Fprintf(out, "salesforce  real org %s\n", real.OrgID)
		fmt.Fprintf(out, "sweep       every %s (0 = off)\n\n", *sweepEvery)
	} else {
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
	}
	if *once {
		return p.waitFor(ctx, func(o engine.Outcome) bool { return o.Decision == engine.DecisionSynced }, 30*time.Second)
	}
	fmt.Fprintln(out, "running     Ctrl-C to stop")
	<-ctx.Done()
	return nil
}

// envSecrets serves "secrets" from environment variables named by their id.
type envSecrets func(string) string

func (e envSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v := e(*in.SecretId)
	if v == "" {
		return nil, fmt.Errorf("%s is not set", *in.SecretId)
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
}

// realCRMs builds the clients of real CRMs from the environment.
func realCRMs(ctx context.Context, getenv func(string) string, usage crmclients.Usage) (*localstack.Real, error) {
	cfg, errs := crmclients.LoadConfig(func(k string) string {
		switch k {
		case "HUBSPOT_CREDENTIALS_SECRET_ID":
			return "CRMSYNC_HUBSPOT_CREDENTIALS"
		case "SALESFORCE_CREDENTIALS_SECRET_ID":
			return "CRMSYNC_SALESFORCE_CREDENTIALS"
		}
		return getenv(k)
	})
	orgID := strings.TrimSpace(getenv("CRMSYNC_SALESFORCE_ORG_ID"))
	if orgID == "" {
		errs = append(errs, errors.New("CRMSYNC_SALESFORCE_ORG_ID is not set"))
	}
	if len(errs) > 0 {
		return nil, usageError("local: without --sandbox: " + errors.Join(errs...).Error())
	}
	clients, err := crmclients.New(ctx, envSecrets(getenv), cfg, usage)
	if err != nil {
		return nil, usageError("local: without --sandbox: " + err.Error())
	}
	var secrets []string
	for _, s := range strings.Split(getenv("CRMSYNC_HUBSPOT_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	return &localstack.Real{HubSpot: clients.HubSpot, Salesforce: clients.Salesforce, OrgID: orgID, WebhookSecrets: secrets}, nil
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
