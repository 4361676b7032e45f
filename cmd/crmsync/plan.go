package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
)

const planUsage = `usage: crmsync plan [-local URL] [-batch N] [-json] FILE

A dry run of a settings change: the running stack's engine reads every
linked pair and decides under the settings in FILE (YAML, as settings export
writes it) — nothing is written. It prints how many pairs would write, which
fields on which side, the sync errors the change would cause, and the
write calls it costs per CRM when the worker resolves the pairs in batches
of -batch (10: SQS FIFO's; HubSpot batches of 100 and Salesforce
collections of 200 are one call). Reading the pairs costs the plan itself
the reads of a resolution per pair.
`

func setupPlan(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	batch := fs.Int("batch", 10, "triggers the worker resolves together (SQS FIFO: at most 10)")
	asJSON := fs.Bool("json", false, "write JSON")
	return func(ctx context.Context, out io.Writer, args []string) error {
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
