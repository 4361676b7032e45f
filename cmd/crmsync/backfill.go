package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/schollz/progressbar/v3"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmclients"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localstack"
)

const backfillUsage = `usage: crmsync backfill [-local URL | -table NAME] [-size N] [-wait D] [-restart]

The first sync of an existing portal and org: pages through each side's
records of every enabled object pair (contacts: Salesforce leads and
contacts, then HubSpot contacts; then companies; then deals) and resolves
each page at once — records read in batches, identities matched by many
emails per call, creations and updates in vendor batches (HubSpot 100,
Salesforce collections of 200) — at the API budget's lowest priority (P3).
After each page the position is stored (the store's "backfill" lease): an
interrupted backfill, run again, resumes at the first page not done (a
finished one says it is done; -restart begins a new one). A page
the budget pauses (P3 stops at 75 % of the Salesforce allocation by default
and resumes below 70 %) waits -wait and runs again; nothing is dropped.
The progress bar shows the records done of those counted at the start and
an ETA. 'crmsync plan -backfill' says first what it would write and cost.

Where it runs (one of):
  -local URL   a running 'crmsync local' (its receivers' address): the stack
               runs each page with its own engine, clients and store.
  -table NAME  a deployed stack's DynamoDB table (default $CRMSYNC_TABLE): the
               pages run here, in this process, with the deployed engine's
               code, the table as store and budget, and the CRM credentials
               from Secrets Manager as the Lambdas read them
               (HUBSPOT_CREDENTIALS_SECRET_ID, SALESFORCE_CREDENTIALS_SECRET_ID;
               see pkg/crmclients). AWS credentials and region from the usual
               AWS environment.

Why in-process and not through the trigger queue: SQS FIFO hands the worker
10 triggers at a time, so a backfill enqueued as triggers costs at least a
call per 10 records on each side, where a page costs about 3 Salesforce
calls per 200. The trade-offs: the machine running it must stay up (an
interruption only costs the page in flight: it resumes), it needs the CRM
secrets, and it competes with the deployed worker only through the store
(links are unique, so the two never create the same record twice) and the
shared API budget (real-time work, P0-P2, goes first).
`

func setupBackfill(fs *flag.FlagSet) runFunc {
	local := fs.String("local", "", "base URL of a running crmsync local, e.g. "+defaultLocalURL)
	table := fs.String("table", os.Getenv("CRMSYNC_TABLE"), "DynamoDB table of a deployed stack (default $CRMSYNC_TABLE)")
	size := fs.Int("size", backfill.DefaultSize, "records per page")
	wait := fs.Duration("wait", time.Minute, "how long a page the API budget pauses waits before it is tried again")
	restart := fs.Bool("restart", false, "forget where the last backfill stopped (or that it finished) and begin again")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("backfill", args, 0, ""); err != nil {
			return err
		}
		if *size < 1 {
			return usageError("backfill: -size must be at least 1")
		}
		step, where, release, err := backfillStepper(ctx, *local, *table, *size, *restart)
		if err != nil {
			return err
		}
		defer release()
		return runBackfill(ctx, out, step, where, *wait)
	}
}

// stepper runs the next page of a backfill.
type stepper func(ctx context.Context) (backfill.Progress, error)

// backfillStepper returns where the backfill's pages run.
func backfillStepper(ctx context.Context, local, table string, size int, restart bool) (stepper, string, func(), error) {
	switch {
	case local != "" && table != "":
		return nil, "", nil, usageError("backfill: -local and -table are exclusive")
	case local != "":
		c := &localstack.AdminClient{BaseURL: local}
		req := localstack.BackfillRequest{Size: size, Restart: restart}
		return func(ctx context.Context) (backfill.Progress, error) {
			p, err := c.BackfillStep(ctx, req)
			req.Restart = false // once, before the first page
			return p, err
		}, "local stack " + local, func() {}, nil
	case table == "":
		return nil, "", nil, usageError("backfill: pass -local URL for crmsync local, or -table (or $CRMSYNC_TABLE) for a deployed stack")
	}
	j, _, _, release, err := deployedJob(ctx, table)
	if err != nil {
		return nil, "", nil, err
	}
	j.Size = size
	if restart {
		if err := j.Restart(ctx); err != nil {
			release()
			return nil, "", nil, err
		}
	}
	return j.Step, "DynamoDB table " + table, release, nil
}

// deployedJob builds the backfill of a deployed stack in this process.
// It returns the job, its engine and store, and what releases them.
func deployedJob(ctx context.Context, table string) (*backfill.Job, *engine.Engine, crmsync.Store, func(), error) {
	cfg, problems := crmclients.LoadConfig(os.Getenv)
	if len(problems) > 0 {
		return nil, nil, nil, nil, usageError("backfill: " + errors.Join(problems...).Error())
	}
	st, closeStore, _, err := openStore(ctx, "", table)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("load AWS config: %w", err)
	}
	clients, err := crmclients.New(ctx, secretsmanager.NewFromConfig(awsCfg), cfg, st)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	eng := &engine.Engine{Store: st, HubSpot: clients.HubSpot, Salesforce: clients.Salesforce}
	settings, err := eng.Settings(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	host, _ := os.Hostname()
	j := backfill.New(settings, st, eng, clients.HubSpot, clients.Salesforce, fmt.Sprintf("crmsync backfill %s/%d", host, os.Getpid()))
	return j, eng, st, func() { _ = closeStore() }, nil
}

// runBackfill steps until done, with a progress bar and ETA on a
// terminal (a line per page elsewhere), waiting when the budget pauses.
func runBackfill(ctx context.Context, out io.Writer, step stepper, where string, wait time.Duration) error {
	var bar *progressbar.ProgressBar
	shown := -1
	for {
		p, err := step(ctx)
		if err != nil {
			if bar != nil {
				_ = bar.Exit()
			}
			return fmt.Errorf("backfill on %s: %d of %d records done, then: %w (run it again to resume)", where, p.Done, p.Total, err)
		}
		if bar == nil && isTerminal(out) && p.Total > 0 {
			bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(out), progressbar.OptionShowCount(),
				progressbar.OptionSetItsString("records"), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionFullWidth(), progressbar.OptionSetDescription("backfill"))
		}
		if bar != nil {
			if p.Done > shown {
				_ = bar.Set(min(p.Done, p.Total))
			}
			bar.Describe("backfill " + p.Current + pausedNote(p))
		} else if !p.Finished && (p.Done != shown || p.Paused != "") {
			fmt.Fprintf(out, "backfill %s: %d/%d records%s\n", p.Current, p.Done, p.Total, pausedNote(p))
		}
		shown = p.Done
		if p.Finished {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "backfill done on %s: %d records (%d already linked by it), %s\n", where, p.Done, p.Skipped, decisionSummary(p.Decisions))
			return nil
		}
		if p.Paused != "" {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("backfill on %s: stopped at %d of %d records (run it again to resume): %w", where, p.Done, p.Total, ctx.Err())
			case <-t.C:
			}
		}
	}
}

func pausedNote(p backfill.Progress) string {
	if p.Paused == "" {
		return ""
	}
	return " — paused: " + p.Paused
}

func decisionSummary(d map[engine.Decision]int) string {
	var parts []string
	for _, k := range sortedKeys(d) {
		parts = append(parts, fmt.Sprintf("%s %d", k, d[engine.Decision(k)]))
	}
	if len(parts) == 0 {
		return "nothing resolved"
	}
	return strings.Join(parts, ", ")
}

// printBulkPlan prints a backfill's or a resync's dry run.
func printBulkPlan(out io.Writer, p *engine.BulkPlan, what, where string) {
	fmt.Fprintf(out, "plan        %s on %s: %d records read, nothing written\n", what, where, p.Pairs)
	printPlanCounts(out, p.Decisions, p.Writes, p.Fields, p.Errors)
	fmt.Fprintf(out, "calls       HubSpot %d (reads %d, writes %d), Salesforce %d (reads %d, writes %d), in batches of %d\n",
		p.Total(crmsync.HubSpot), p.Reads[crmsync.HubSpot], p.Calls[crmsync.HubSpot],
		p.Total(crmsync.Salesforce), p.Reads[crmsync.Salesforce], p.Calls[crmsync.Salesforce], p.BatchSize)
}
