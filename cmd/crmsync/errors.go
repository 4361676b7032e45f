package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localstack"
)

const errorsUsage = `usage: crmsync errors [-data FILE | -table NAME | -local URL] [-category C] [-limit N] [-json]

Lists the records that did not sync: the number per category, then each
record with its category, the reason (an eligibility refusal) or the vendor's
error code, the message, what to do about it, how often it was tried, when it
was first and last seen, and when the next automatic retry is. Fix the cause,
then retry with 'crmsync resync <side> <object> <id>' or 'crmsync resync -errors'.
`

func setupErrors(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	category := fs.String("category", "", "only this category ("+categoryNames()+")")
	limit := fs.Int("limit", 50, "list at most this many errors (0 = all)")
	asJSON := fs.Bool("json", false, "write JSON instead of text")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("errors", args, 0, ""); err != nil {
			return err
		}
		if *limit < 0 {
			return usageError("errors: -limit must not be negative")
		}
		var cat crmsync.Category
		if *category != "" {
			var err error
			if cat, err = parseCategory(*category); err != nil {
				return usageError("errors: " + err.Error())
			}
		}
		st, release, where, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer release()
		rep, err := st.Errors(ctx, cat, *limit)
		if err != nil {
			return fmt.Errorf("errors: %w", err)
		}
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		printErrors(out, where, cat, rep, time.Now())
		return nil
	}
}

func printErrors(out io.Writer, where string, cat crmsync.Category, rep localstack.ErrorsReport, now time.Time) {
	if rep.Total == 0 {
		fmt.Fprintf(out, "no sync errors in %s\n", where)
		return
	}
	fmt.Fprintf(out, "%d sync error%s in %s\n", rep.Total, plural(rep.Total), where)
	for _, c := range crmsync.Categories {
		if n := rep.Counts[c]; n > 0 {
			fmt.Fprintf(out, "  %-16s %d\n", c, n)
		}
	}
	if cat != "" {
		fmt.Fprintf(out, "\nshowing %s only\n", cat)
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(out)
		printSyncError(out, "", e, now)
	}
	if rep.More {
		fmt.Fprintf(out, "\n… more not shown (-limit 0 lists all)\n")
	}
	fmt.Fprintln(out, "\nretry one: crmsync resync <side> <object> <id>   all: crmsync resync -errors [-category C]")
}

// printSyncError prints one error as an indented block.
func printSyncError(out io.Writer, indent string, e crmsync.SyncError, now time.Time) {
	what := string(e.Category)
	if e.Reason != "" {
		what += " · reason " + string(e.Reason)
	}
	if e.Code != "" {
		what += " · code " + e.Code
	}
	fmt.Fprintf(out, "%s%s  %s\n", indent, e.Record, what)
	fmt.Fprintf(out, "%s  message     %s\n", indent, e.Message)
	if e.Hint != "" {
		fmt.Fprintf(out, "%s  fix         %s\n", indent, e.Hint)
	}
	fmt.Fprintf(out, "%s  attempts    %d\n", indent, e.Attempts)
	fmt.Fprintf(out, "%s  first seen  %s\n", indent, stamp(e.FirstSeen))
	fmt.Fprintf(out, "%s  last seen   %s\n", indent, stamp(e.LastSeen))
	switch {
	case e.NextRetry.IsZero():
		fmt.Fprintf(out, "%s  next retry  none scheduled (resync by hand)\n", indent)
	case !e.NextRetry.After(now):
		fmt.Fprintf(out, "%s  next retry  %s (due: the next sweep enqueues it)\n", indent, stamp(e.NextRetry))
	default:
		fmt.Fprintf(out, "%s  next retry  %s\n", indent, stamp(e.NextRetry))
	}
	if e.LinkID != "" {
		fmt.Fprintf(out, "%s  link        %s\n", indent, e.LinkID)
	}
}

// stamp formats a time for people: UTC to the millisecond.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
