package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/health"
)

const explainUsage = `usage: crmsync explain [-data FILE | -table NAME] [-limit N] [-json] <side> <object> <id>

Says what crmsync knows about one record and why it did what it did: the link
to the record on the other side (both records, status, version, and the
shadow — the last synced value of every mapped field), the sync error of
either record if there is one, and the ledger newest first: each trigger
(kind, delivery), the decision and result, the call made, each field's change
before → after with the rule that applied and any Two-way conflict, and the
engine's note. A record without a link shows the ledger kept under the record
itself (refusals, skips, failed creates).

  side     hubspot | salesforce
  object   hubspot: contact, company, deal, …; salesforce: Lead, Contact, Account, Opportunity, …
`

// explanation is the -json form of crmsync explain.
type explanation = health.Explanation

func runExplain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, explainUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	limit := fs.Int("limit", 20, "show at most this many ledger entries (0 = all)")
	asJSON := fs.Bool("json", false, "write JSON instead of text")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("explain: " + err.Error())
	}
	if len(pos) != 3 {
		fmt.Fprint(out, explainUsage)
		return usageError("explain: want <side> <object> <id>")
	}
	if *limit < 0 {
		return usageError("explain: -limit must not be negative")
	}
	ref, err := parseRef(pos[0], pos[1], pos[2])
	if err != nil {
		return usageError("explain: " + err.Error())
	}
	st, closeStore, _, err := openStore(ctx, sf)
	if err != nil {
		return err
	}
	defer closeStore()
	x, err := explain(ctx, st, ref, *limit)
	if err != nil {
		return fmt.Errorf("explain %s: %w", ref, err)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	printExplanation(out, x, time.Now())
	return nil
}

// explain gathers what the store holds about ref: package health does it,
// for this command and the Sync Health record card alike.
func explain(ctx context.Context, st crmsync.Store, ref crmsync.RecordRef, limit int) (explanation, error) {
	return health.Explain(ctx, st, ref, limit)
}

func printExplanation(out io.Writer, x explanation, now time.Time) {
	fmt.Fprintf(out, "record      %s\n", x.Record)
	if l := x.Link; l == nil {
		fmt.Fprintln(out, "link        none: the record is not linked (not synced yet, refused, or skipped — see the ledger)")
	} else {
		fmt.Fprintf(out, "link        %s  status %s  version %d\n", l.ID, l.Status, l.Version)
		fmt.Fprintf(out, "  hubspot     %-36s last seen modified %s\n", refOrNone(l.HubSpot), stamp(l.HubSpotSeen))
		fmt.Fprintf(out, "  salesforce  %-36s last seen modified %s\n", refOrNone(l.Salesforce), stamp(l.SalesforceSeen))
		fmt.Fprintf(out, "  created     %s   updated %s\n", stamp(l.CreatedAt), stamp(l.UpdatedAt))
		if l.PendingKey != "" {
			fmt.Fprintf(out, "  pending     reserved by trigger %s\n", l.PendingKey)
		}
		if len(l.Shadow) == 0 {
			fmt.Fprintln(out, "  shadow      none")
		} else {
			fmt.Fprintln(out, "  shadow      last synced value per mapped field (hubspot=salesforce)")
			fields := make([]string, 0, len(l.Shadow))
			width := 0
			for f := range l.Shadow {
				fields = append(fields, f)
				width = max(width, len(f))
			}
			slices.Sort(fields)
			for _, f := range fields {
				s := l.Shadow[f]
				fmt.Fprintf(out, "    %-*s  %-30s synced %s\n", width, f, quote(s.Value), stamp(s.SyncedAt))
			}
		}
	}
	if len(x.SyncErrors) == 0 {
		fmt.Fprintln(out, "sync error  none")
	}
	for _, e := range x.SyncErrors {
		fmt.Fprintln(out, "sync error")
		printSyncError(out, "  ", e, now)
	}
	switch {
	case len(x.Ledger) == 0:
		fmt.Fprintln(out, "ledger      empty (nothing resolved for this record yet, or its entries expired)")
		return
	case x.More:
		fmt.Fprintf(out, "ledger      newest %d entries (-limit 0 shows all)\n", len(x.Ledger))
	case len(x.Ledger) == 1:
		fmt.Fprintln(out, "ledger      1 entry")
	default:
		fmt.Fprintf(out, "ledger      %d entries, newest first\n", len(x.Ledger))
	}
	for _, e := range x.Ledger {
		printLedgerEntry(out, e)
	}
}

func printLedgerEntry(out io.Writer, e crmsync.LedgerEntry) {
	t := e.Trigger
	line := fmt.Sprintf("  %s  trigger %s on %s", stamp(e.At), t.Kind, t.Record)
	if t.DeliveryID != "" {
		line += "  delivery " + t.DeliveryID
	}
	if t.Attempt > 0 {
		line += fmt.Sprintf("  attempt %d", t.Attempt)
	}
	fmt.Fprintln(out, line)
	fmt.Fprintf(out, "    result    %s\n", e.Result)
	if !e.Target.IsZero() {
		fmt.Fprintf(out, "    target    %s\n", e.Target)
	}
	if e.Call != "" {
		fmt.Fprintf(out, "    call      %s\n", e.Call)
	}
	width := 0
	for _, c := range e.Changes {
		width = max(width, len(c.Field))
	}
	for i, c := range e.Changes {
		label := ""
		if i == 0 {
			label = "changes"
		}
		rule := ""
		if c.Rule != "" {
			rule = "  (" + c.Rule + ")"
		}
		fmt.Fprintf(out, "    %-9s %-*s  %s → %s%s\n", label, width, c.Field, quote(c.Before), quote(c.After), rule)
		if c.Conflict != "" {
			fmt.Fprintf(out, "    %-9s %-*s  conflict: %s\n", "", width, "", c.Conflict)
		}
	}
	if e.Note != "" {
		fmt.Fprintf(out, "    note      %s\n", e.Note)
	}
}

func refOrNone(r crmsync.RecordRef) string {
	if r.IsZero() {
		return "(none yet)"
	}
	return r.String()
}

// quote shows a field value quoted, so an empty or blank one is visible.
func quote(v string) string { return fmt.Sprintf("%q", v) }
