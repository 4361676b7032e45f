package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/health"
)

const healthUsage = `usage: crmsync health [-data FILE | -table NAME | -local URL] [-json]

The Sync Health page's data in the terminal: Salesforce API calls in the last
24 hours against the allocation, HubSpot's calls, the error cards (errors and
impacted records per category and not-eligible reason), the queue (from a
running stack), the sweep's cursors and lag, and which objects and activities
sync. The page itself is at /health on the running stack, and behind the
SyncHealthURL output in AWS.
`

func setupHealth(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	asJSON := fs.Bool("json", false, "write JSON (the page's /health.json)")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("health", args, 0, ""); err != nil {
			return err
		}
		st, release, where, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer release()
		r, err := st.Health(ctx)
		if err != nil {
			return fmt.Errorf("health: %w", err)
		}
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}
		printHealth(out, r, where)
		return nil
	}
}

func printHealth(out io.Writer, r health.Report, where string) {
	fmt.Fprintf(out, "Sync Health of %s at %s\n", where, r.GeneratedAt.Format(time.RFC3339))
	u := r.Usage
	alloc := "the org's allocation (not read here)"
	if u.SalesforceAllocation > 0 {
		alloc = fmt.Sprint(u.SalesforceAllocation)
	}
	fmt.Fprintf(out, "api         Salesforce %d calls in 24 h of %s", u.SalesforceCalls, alloc)
	if u.Percent != nil {
		fmt.Fprintf(out, " (%.1f%%)", *u.Percent)
	}
	fmt.Fprintf(out, "; HubSpot %d calls\n", u.HubSpotCalls)
	switch b := r.Budget; {
	case b == nil:
		fmt.Fprintln(out, "budget      what it pauses is known to the running worker only")
	case !b.SuspendedUntil.IsZero():
		fmt.Fprintf(out, "budget      every Salesforce call suspended until %s (REQUEST_LIMIT_EXCEEDED)\n", b.SuspendedUntil.Format(time.RFC3339))
	case len(b.Paused) > 0:
		fmt.Fprintf(out, "budget      paused: %s\n", strings.Join(b.Paused, ", "))
	default:
		fmt.Fprintln(out, "budget      nothing paused")
	}
	total := 0
	for _, c := range r.Cards {
		total += c.Errors
	}
	fmt.Fprintf(out, "errors      %d\n", total)
	for _, c := range r.Cards {
		if c.Errors > 0 {
			fmt.Fprintf(out, "  %-34s %5d errors  %5d records\n", c.Title, c.Errors, c.Records)
		}
	}
	q := r.Queue
	fmt.Fprintf(out, "queue       visible %s  in flight %s  oldest %s  dead letters %s\n",
		intOr(q.Visible), intOr(q.InFlight), secondsOr(q.OldestAge), intOr(q.DeadLetters))
	for _, n := range q.Notes {
		fmt.Fprintf(out, "  note      %s\n", n)
	}
	fmt.Fprintf(out, "sweep       lag %s over %d cursors\n", secondsOr(r.Sweep.LagSeconds), len(r.Sweep.Cursors))
	var on []string
	for _, t := range append(append([]health.Toggle{}, r.Settings.Objects...), r.Settings.Activities...) {
		if t.On {
			on = append(on, t.Name)
		}
	}
	fmt.Fprintf(out, "syncing     %s (settings version %d)\n", strings.Join(on, ", "), r.Settings.Version)
}

func intOr(v *int) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprint(*v)
}

func secondsOr(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return (time.Duration(*v) * time.Second).Round(time.Second).String()
}
