package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/crmsync/crmsync/pkg/backfill"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localstack"
)

const planUsage = `usage:
  crmsync plan [-local URL] [-batch N] [-json] FILE
  crmsync plan -backfill [-local URL | -table NAME] [-size N] [-json]

A dry run of a settings change: the running stack's engine reads every
linked pair and decides under the settings in FILE (YAML, as settings export
writes it) — nothing is written. It prints how many pairs would write, which
fields on which side, the sync errors the change would cause, and the
write calls it costs per CRM when the worker resolves the pairs in batches
of -batch (10: SQS FIFO's; HubSpot batches of 100 and Salesforce
collections of 200 are one call). Reading the pairs costs the plan itself
the reads of a resolution per pair.

With -backfill it dry-runs 'crmsync backfill' instead: every page listed,
read and decided as the backfill would (the same batched reads, the same
decision), nothing written — the records it would create and update, which
fields, the sync errors, and the API calls per CRM: the reads (measured:
the plan makes the very reads the run will make) and the writes in the
run's batches (pages of -size; HubSpot batches of 100 and Salesforce
collections of 200 are one call). Against a deployed stack (-table) it runs
here, with the CRM credentials as 'crmsync backfill -table' reads them.
`

func setupPlan(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	batch := fs.Int("batch", 10, "triggers the worker resolves together (SQS FIFO: at most 10)")
	asJSON := fs.Bool("json", false, "write JSON")
	bf := fs.Bool("backfill", false, "dry-run crmsync backfill instead of a settings change")
	size := fs.Int("size", backfill.DefaultSize, "with -backfill: records per page")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if *bf {
			if err := wantArgs("plan -backfill", args, 0, ""); err != nil {
				return err
			}
			p, where, err := planBackfill(ctx, *sf.local, *sf.table, *size)
			if err != nil {
				return fmt.Errorf("plan -backfill: %w", err)
			}
			if *asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}
			printBulkPlan(out, p, where)
			return nil
		}
		proposed, st, release, where, err := settingsFileAndState(ctx, "plan", sf, args)
		if err != nil {
			return err
		}
		defer release()
		p, err := st.Plan(ctx, proposed, *batch)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(p)
		}
		printPlan(out, p, args[0], where)
		return nil
	}
}

// planBackfill dry-runs the backfill on a running local stack or, with
// table, here against a deployed stack.
func planBackfill(ctx context.Context, local, table string, size int) (*engine.BulkPlan, string, error) {
	switch {
	case local != "" && table != "":
		return nil, "", usageError("-local and -table are exclusive")
	case local != "":
		p, err := (&localstack.AdminClient{BaseURL: local, HTTP: &http.Client{Timeout: time.Hour}}).PlanBackfill(ctx, size)
		return p, "local stack " + local, err
	case table == "":
		return nil, "", usageError("pass -local URL for crmsync local, or -table (or $CRMSYNC_TABLE) for a deployed stack")
	}
	j, eng, st, release, err := deployedJob(ctx, table)
	if err != nil {
		return nil, "", err
	}
	defer release()
	j.Size = size
	p, err := j.Plan(ctx, eng, st)
	return p, "DynamoDB table " + table, err
}

func printPlan(out io.Writer, p engine.SettingsPlan, file, where string) {
	fmt.Fprintf(out, "plan        %s on %s: %d linked pairs read, nothing written\n", file, where, p.Pairs)
	for _, d := range sortedKeys(p.Decisions) {
		fmt.Fprintf(out, "  %-18s %d\n", d, p.Decisions[engine.Decision(d)])
	}
	for _, w := range sortedKeys(p.Writes) {
		fmt.Fprintf(out, "writes      %-34s %d\n", w, p.Writes[w])
	}
	for _, f := range sortedKeys(p.Fields) {
		fmt.Fprintf(out, "  field     %-34s %d\n", f, p.Fields[f])
	}
	for _, c := range sortedKeys(p.Errors) {
		fmt.Fprintf(out, "errors      %-34s %d\n", c, p.Errors[crmsync.Category(c)])
	}
	fmt.Fprintf(out, "calls       HubSpot %d, Salesforce %d (writes, in batches of %d)\n",
		p.Calls[crmsync.HubSpot], p.Calls[crmsync.Salesforce], p.BatchSize)
}

// sortedKeys returns the keys of m as strings, sorted.
func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
