package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmclients"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localqueue"
	"github.com/crmsync/crmsync/pkg/localstack"
)

const localUsage = `usage: crmsync local [--sandbox] [-data FILE] [-addr A] [-sweep-every D] [-hubspot-addr A] [-salesforce-addr A] [-demo=false] [-once]

Runs the whole stack on this machine: the receivers on local HTTP, the local
queue, the embedded store (a bbolt file), a worker pool, the sweep and, with
--sandbox, a simulated HubSpot portal and Salesforce org that send their
webhooks and outbound messages to the receivers. Each sync is printed as it
happens; refusals and errors are marked (and coloured on a terminal), and
Ctrl-C prints a one-line summary.

With --sandbox the simulated portal and org live in memory and start empty
every run, so the sandbox starts from an empty store every run too: it
erases the data file's links, ledger, errors and cursors at start (keeping
the settings). It refuses a file that crmsync local used against real CRMs.

While it runs, it holds the data file; crmsync settings, errors, explain,
resync and redrive reach the running stack through its admin routes.

Without --sandbox it runs against real CRMs, with credentials from the
environment (the same JSON as the Lambdas' secrets):

  CRMSYNC_HUBSPOT_CREDENTIALS     {"private_app_token": …} or {"client_id", "client_secret", "refresh_token"}
  CRMSYNC_SALESFORCE_CREDENTIALS  {"login_url", "client_id", "username", "private_key"} or a refresh-token form
  CRMSYNC_SALESFORCE_ORG_ID       the org outbound messages must come from
  CRMSYNC_HUBSPOT_WEBHOOK_SECRET  the HubSpot app's client secret(s), comma-separated (optional)
  HUBSPOT_BASE_URL, SALESFORCE_INSTANCE_URL, SALESFORCE_CLIENT_ID, CRMSYNC_HTTP_TIMEOUT as for the Lambdas
`

func setupLocal(fs *flag.FlagSet) runFunc {
	data := fs.String("data", "crmsync-local.db", "bbolt file holding the local state")
	sandbox := fs.Bool("sandbox", false, "run against the built-in HubSpot and Salesforce simulators")
	addr := fs.String("addr", "127.0.0.1:8080", "receivers' listen address")
	hsAddr := fs.String("hubspot-addr", "127.0.0.1:8081", "HubSpot simulator's listen address")
	sfAddr := fs.String("salesforce-addr", "127.0.0.1:8082", "Salesforce simulator's listen address")
	demo := fs.Bool("demo", true, "create one HubSpot contact at start, so a sync happens")
	once := fs.Bool("once", false, "start, run the demo sync, print it and exit")
	sweepEvery := fs.Duration("sweep-every", time.Minute, "how often the sweep runs (AWS: 15m; 0 = never)")
	noWebhooks := fs.Bool("no-webhooks", false, "simulators send no webhooks or outbound messages: only the sweep finds changes")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("local", args, 0, ""); err != nil {
			return err
		}
		return runLocal(ctx, out, localOptions{data: *data, sandbox: *sandbox, addr: *addr, hsAddr: *hsAddr, sfAddr: *sfAddr,
			demo: *demo, once: *once, sweepEvery: *sweepEvery, noWebhooks: *noWebhooks})
	}
}

type localOptions struct {
	data                 string
	sandbox              bool
	addr, hsAddr, sfAddr string
	demo, once           bool
	sweepEvery           time.Duration
	noWebhooks           bool
}

// runLocal runs the local stack until ctx ends (or, with once, until the
// demo synced), then prints a one-line summary.
func runLocal(ctx context.Context, out io.Writer, o localOptions) error {
	abs, err := filepath.Abs(o.data)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	var real *localstack.Real
	storeNote := ""
	if o.sandbox {
		if storeNote, err = freshSandboxStore(ctx, abs); err != nil {
			return err
		}
	} else if orgID := strings.TrimSpace(os.Getenv("CRMSYNC_SALESFORCE_ORG_ID")); orgID != "" {
		// (realCRMs below refuses a missing org id.)
		if err := claimStore(abs, "Salesforce org "+orgID); err != nil {
			return err
		}
	}
	store, err := boltstore.Open(abs)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("local: %w: another process holds %s — is crmsync local already running on it? (-data picks another file)", err, o.data)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	if !o.sandbox {
		if real, err = realCRMs(ctx, os.Getenv, store); err != nil {
			fmt.Fprint(out, localUsage)
			return err
		}
	}
	settings, err := engine.LoadSettings(ctx, store)
	if err != nil {
		return fmt.Errorf("local: read settings: %w", err)
	}
	queue := localqueue.New(localqueue.Options{MaxReceives: 5})

	p := newPrinter(out)
	stack, err := localstack.Start(ctx, localstack.Config{Store: store, Queue: queue, Addr: o.addr, DataFile: abs,
		HubSpotAddr: o.hsAddr, SalesforceAddr: o.sfAddr, SweepEvery: o.sweepEvery, NoWebhooks: o.noWebhooks, Real: real,
		OnSweep:   p.sweep,
		Logger:    slog.New(p.logHandler()),
		OnOutcome: p.print})
	if err != nil {
		return err
	}
	defer stack.Close()

	fmt.Fprintf(out, "store       bbolt %s%s\n", o.data, storeNote)
	fmt.Fprintf(out, "queue       in-process FIFO (dead letter after 5 receives; crmsync redrive -local %s moves them back)\n", stack.ReceiverURL)
	fmt.Fprintf(out, "receivers   POST %s/webhooks/hubspot   POST %s/webhooks/salesforce\n", stack.ReceiverURL, stack.ReceiverURL)
	fmt.Fprintf(out, "admin       %s%s (crmsync settings/errors/explain/resync/redrive reach the running stack here)\n", stack.ReceiverURL, localstack.AdminPath)
	fmt.Fprintf(out, "health      %s/health (Sync Health: API usage, error cards, record cards; JSON at /health.json; crmsync health)\n", stack.ReceiverURL)
	printSyncScope(out, settings)
	if real != nil {
		fmt.Fprintf(out, "hubspot     real portal (the sweep finds changes; webhooks reach %s/webhooks/hubspot only through a tunnel you set up)\n", stack.ReceiverURL)
		fmt.Fprintf(out, "salesforce  real org %s\n", real.OrgID)
		fmt.Fprintf(out, "sweep       every %s (0 = off)\n\n", o.sweepEvery)
	} else {
		fmt.Fprintf(out, "hubspot     simulated portal at %s (admin API under /_admin/)\n", stack.HubSpotURL)
		fmt.Fprintf(out, "salesforce  simulated org %s at %s (admin API under /admin/)\n", stack.Salesforce.OrgID(), stack.SalesforceURL)
		fmt.Fprintf(out, "sweep       every %s (0 = off); webhooks %s\n\n", o.sweepEvery, map[bool]string{true: "off", false: "on"}[o.noWebhooks])
		fmt.Fprintf(out, "Try:\n")
		fmt.Fprintf(out, "  curl -s -XPOST %s/_admin/objects/contacts -d '{\"properties\":{\"email\":\"grace@example.com\",\"firstname\":\"Grace\",\"lastname\":\"Hopper\",\"company\":\"Navy\"}}'\n", stack.HubSpotURL)
		fmt.Fprintf(out, "  curl -s %s/admin/sobjects/Lead\n", stack.SalesforceURL)
		fmt.Fprintf(out, "  curl -s -XPATCH '%s/admin/sobjects/Lead/<Id>' -d '{\"Phone\":\"+1 555 0100\"}'\n\n", stack.SalesforceURL)
		if o.demo {
			c, err := stack.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "ada@example.com",
				"firstname": "Ada", "lastname": "Lovelace", "company": "Analytical Engines", "phone": "+44 20 7946 0000"})
			if err != nil {
				return fmt.Errorf("demo contact: %w", err)
			}
			fmt.Fprintf(out, "demo        created HubSpot contact %s (ada@example.com); watch it arrive in Salesforce:\n", c.ID)
		}
	}
	defer func() { fmt.Fprintln(out, p.summary()) }()
	if o.once {
		return p.waitFor(ctx, func(o engine.Outcome) bool { return o.Decision == engine.DecisionSynced }, 30*time.Second)
	}
	fmt.Fprintln(out, "running     Ctrl-C to stop")
	<-ctx.Done()
	fmt.Fprintln(out)
	return nil
}

// printSyncScope says which objects and activities the settings in force
// turn on.
func printSyncScope(out io.Writer, s crmsync.Settings) {
	onOff := func(name string, on bool) string {
		if on {
			return name + " on"
		}
		return name + " off"
	}
	version := "the default settings"
	if s.Version > 0 {
		version = fmt.Sprintf("settings version %d", s.Version)
	}
	fmt.Fprintf(out, "objects     %s, %s, %s (%s; crmsync settings export shows the rest)\n",
		onOff("contacts", s.Objects.Contacts), onOff("companies", s.Objects.Companies), onOff("deals", s.Objects.Deals), version)
	a := s.Activities
	var on []string
	for _, t := range []struct {
		name string
		on   bool
	}{{"form submissions", a.FormSubmissions}, {"marketing emails", a.MarketingEmails}, {"sales emails", a.SalesEmails},
		{"meetings", a.Meetings}, {"calls", a.Calls}, {"notes", a.Notes}, {"tasks", a.Tasks}, {"document views", a.DocumentViews}} {
		if t.on {
			on = append(on, t.name)
		}
	}
	switch {
	case len(on) == 0:
		fmt.Fprint(out, "activities  all off (none becomes a Salesforce Task)")
	default:
		fmt.Fprintf(out, "activities  %s on: each becomes a Salesforce Task", strings.Join(on, ", "))
	}
	if n := len(a.FormCampaigns); n > 0 {
		fmt.Fprintf(out, "; %d form(s) add their submitters to Salesforce campaigns", n)
	}
	fmt.Fprintln(out)
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
