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
  crmsync plan -resync [-local URL | -table NAME] [-batch N] [-json] <side> <object> <id>
  crmsync plan -resync -errors [-category C] | -list ID [-object O]   (and the same flags)

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

With -resync it dry-runs 'crmsync resync' with the same arguments: the
records a resync would enqueue, decided as the worker resolves them off the
queue in batches of -batch (linked pairs read together, new records one by
one), nothing written — what it would write, and its calls per CRM (reads
measured, writes as the worker batches them).
`

func setupPlan(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	batch := fs.Int("batch", 10, "triggers the worker resolves together (SQS FIFO: at most 10)")
	asJSON := fs.Bool("json", false, "write JSON")
	bf := fs.Bool("backfill", false, "dry-run crmsync backfill instead of a settings change")
	size := fs.Int("size", backfill.DefaultSize, "with -backfill: records per page")
	rs := fs.Bool("resync", false, "dry-run crmsync resync (one record, -errors or -list) instead of a settings change")
	errs := fs.Bool("errors", false, "with -resync: every record with a sync error")
	category := fs.String("category", "", "with -resync -errors: only this category ("+categoryNames()+")")
	list := fs.String("list", "", "with -resync: every member of this HubSpot list")
	listObject := fs.String("object", "contact", "with -resync -list: the HubSpot object type of the list's members")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if *rs {
			req, err := resyncPlanRequest(args, *errs, *category, *list, *listObject, *batch)
			if err != nil {
				return err
			}
			p, where, err := planResync(ctx, *sf.local, *sf.table, req)
			if err != nil {
				return fmt.Errorf("plan -resync: %w", err)
			}
			return writeBulkPlan(out, p, "resync", where, *asJSON)
		}
		if *bf {
			if err := wantArgs("plan -backfill", args, 0, ""); err != nil {
				return err
			}
			p, where, err := planBackfill(ctx, *sf.local, *sf.table, *size)
			if err != nil {
				return fmt.Errorf("plan -backfill: %w", err)
			}
			return writeBulkPlan(out, p, "backfill", where, *asJSON)
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

// resyncPlanRequest reads what plan -resync dry-runs, as resync reads it.
func resyncPlanRequest(args []string, errs bool, category, list, listObject string, batch int) (localstack.ResyncPlanRequest, error) {
	req := localstack.ResyncPlanRequest{Errors: errs, ListID: list, BatchSize: batch}
	switch {
	case errs && list != "":
		return req, usageError("plan -resync: -errors and -list are exclusive")
	case errs || list != "":
		if err := wantArgs("plan -resync", args, 0, ""); err != nil {
			return req, err
		}
	default:
		if err := wantArgs("plan -resync", args, 3, "<side> <object> <id>, -errors or -list ID"); err != nil {
			return req, err
		}
		ref, err := parseRef(args[0], args[1], args[2])
		if err != nil {
			return req, usageError("plan -resync: " + err.Error())
		}
		req.Side, req.Object, req.ID = ref.Side, ref.Object, ref.ID
	}
	if category != "" {
		if !errs {
			return req, usageError("plan -resync: -category needs -errors")
		}
		c, err := parseCategory(category)
		if err != nil {
			return req, usageError("plan -resync: " + err.Error())
		}
		req.Category = c
	}
	if list != "" {
		r, err := parseRef("hubspot", listObject, "-")
		if err != nil {
			return req, usageError("plan -resync: -object: " + err.Error())
		}
		req.Object = r.Object
	}
	return req, nil
}

// planResync dry-runs a resync on a running local stack or, with table,
// here against a deployed stack.
func planResync(ctx context.Context, local, table string, req localstack.ResyncPlanRequest) (*engine.BulkPlan, string, error) {
	return planWhere(ctx, local, table, func(c *localstack.AdminClient) (*engine.BulkPlan, error) { return c.PlanResync(ctx, req) },
		func(_ *backfill.Job, eng *engine.Engine, st crmsync.Store) (*engine.BulkPlan, error) {
			lists, _ := eng.HubSpot.(localstack.ListMembers)
			ts, err := localstack.ResyncTriggers(ctx, req, st, lists, time.Now())
			if err != nil {
				return nil, err
			}
			return eng.PlanTriggers(ctx, ts, req.BatchSize)
		})
}

// planWhere runs a dry run through a running local stack (onStack) or,
// with table, here against a deployed stack (here), and says where.
func planWhere(ctx context.Context, local, table string, onStack func(c *localstack.AdminClient) (*engine.BulkPlan, error),
	here func(j *backfill.Job, eng *engine.Engine, st crmsync.Store) (*engine.BulkPlan, error)) (*engine.BulkPlan, string, error) {
	switch {
	case local != "" && table != "":
		return nil, "", usageError("-local and -table are exclusive")
	case local != "":
		p, err := onStack(&localstack.AdminClient{BaseURL: local, HTTP: &http.Client{Timeout: time.Hour}})
		return p, "local stack " + local, err
	case table == "":
		return nil, "", usageError("pass -local URL for crmsync local, or -table (or $CRMSYNC_TABLE) for a deployed stack")
	}
	j, eng, st, release, err := deployedJob(ctx, table)
	if err != nil {
		return nil, "", err
	}
	defer release()
	p, err := here(j, eng, st)
	return p, "DynamoDB table " + table, err
}

// writeBulkPlan writes a backfill's or a resync's dry run, as JSON or as
// lines.
func writeBulkPlan(out io.Writer, p *engine.BulkPlan, what, where string, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	printBulkPlan(out, p, what, where)
	return nil
}

// planBackfill dry-runs the backfill on a running local stack or, with
// table, here against a deployed stack.
func planBackfill(ctx context.Context, local, table string, size int) (*engine.BulkPlan, string, error) {
	return planWhere(ctx, local, table, func(c *localstack.AdminClient) (*engine.BulkPlan, error) { return c.PlanBackfill(ctx, size) },
		func(j *backfill.Job, eng *engine.Engine, st crmsync.Store) (*engine.BulkPlan, error) {
			j.Size = size
			return j.Plan(ctx, eng, st)
		})
}

func printPlan(out io.Writer, p engine.SettingsPlan, file, where string) {
	fmt.Fprintf(out, "plan        %s on %s: %d linked pairs read, nothing written\n", file, where, p.Pairs)
	printPlanCounts(out, p.Decisions, p.Writes, p.Fields, p.Errors)
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

// printPlanCounts prints what a dry run would do: decisions, writes,
// fields and errors, each counted.
func printPlanCounts(out io.Writer, decisions map[engine.Decision]int, writes, fields map[string]int, errs map[crmsync.Category]int) {
	for _, d := range sortedKeys(decisions) {
		fmt.Fprintf(out, "  %-18s %d\n", d, decisions[engine.Decision(d)])
	}
	for _, w := range sortedKeys(writes) {
		fmt.Fprintf(out, "writes      %-34s %d\n", w, writes[w])
	}
	for _, f := range sortedKeys(fields) {
		fmt.Fprintf(out, "  field     %-34s %d\n", f, fields[f])
	}
	for _, c := range sortedKeys(errs) {
		fmt.Fprintf(out, "errors      %-34s %d\n", c, errs[crmsync.Category(c)])
	}
}
