package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/localstack"
)

const explainUsage = `usage: crmsync explain [-data FILE | -table NAME | -local URL] [-limit N] [-json] [-eligibility] <side> <object> <id>

Says what crmsync knows about one record and why it did what it did: the link
to the record on the other side (both records, status, version, and the
shadow — the last synced value of every mapped field), the sync error of
either record if there is one, and the ledger newest first: each trigger
(kind, delivery), the decision and result, the call made, each field's change
before → after with the rule that applied and any Two-way conflict, and the
engine's note. A record without a link shows the ledger kept under the record
itself (refusals, skips, failed creates).

With -eligibility it answers "will this record sync now, and why (not)"
instead: the engine reads the record and its counterpart as a resolution
would and shows its decision — email, inclusion list, selective-sync rule
with the clause that failed, object toggles, inbound setting, identity —
and the writes it would make, changing nothing. It needs the running stack
(crmsync local), which holds the CRM clients.

  side     hubspot | salesforce
  object   hubspot: contact, company, deal, …; salesforce: Lead, Contact, Account, Opportunity, …
`

func setupExplain(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	limit := fs.Int("limit", 20, "show at most this many ledger entries (0 = all)")
	asJSON := fs.Bool("json", false, "write JSON instead of text")
	eligibility := fs.Bool("eligibility", false, "say whether the record would sync now, and why (not), changing nothing")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("explain", args, 3, "<side> <object> <id>"); err != nil {
			return err
		}
		if *limit < 0 {
			return usageError("explain: -limit must not be negative")
		}
		ref, err := parseRef(args[0], args[1], args[2])
		if err != nil {
			return usageError("explain: " + err.Error())
		}
		st, release, _, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer release()
		if *eligibility {
			p, err := st.Preview(ctx, ref)
			if err != nil {
				return fmt.Errorf("explain -eligibility %s: %w", ref, err)
			}
			if *asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}
			printPreview(out, p)
			return nil
		}
		x, err := st.Explain(ctx, ref, *limit)
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
}

func printPreview(out io.Writer, p engine.Preview) {
	fmt.Fprintf(out, "record      %s\n", p.Record)
	verdict := "would sync"
	switch {
	case p.Retry != "":
		verdict = "would wait and retry: " + p.Retry
	case p.Decision == engine.DecisionNoChange:
		verdict = "in sync: nothing to write"
	case p.Decision != engine.DecisionSynced && p.Decision != engine.DecisionConverted:
		verdict = "would NOT sync"
	}
	fmt.Fprintf(out, "eligibility %s (decision %s)\n", verdict, p.Decision)
	if p.Reason != "" {
		fmt.Fprintf(out, "  why       %s\n", p.Reason)
	}
	if e := p.Error; e != nil {
		fmt.Fprintf(out, "  card      %s", e.Category)
		if e.Reason != "" {
			fmt.Fprintf(out, " · reason %s", e.Reason)
		}
		if e.Code != "" {
			fmt.Fprintf(out, " · code %s", e.Code)
		}
		fmt.Fprintf(out, "\n  fix       %s\n", e.Hint)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(out, "  note      %s\n", n)
	}
	for _, w := range p.Writes {
		fmt.Fprintf(out, "  would     %s %s %v\n", w.Op, w.Ref, w.Properties)
	}
}

func printExplanation(out io.Writer, x localstack.Explanation, now time.Time) {
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
		if c.Refused != "" {
			// Nothing was written: After is the refused value, Before the one kept.
			fmt.Fprintf(out, "    %-9s %-*s  REFUSED %s (kept %s)%s\n", label, width, c.Field, quote(c.After), quote(c.Before), rule)
			fmt.Fprintf(out, "    %-9s %-*s  why: %s\n", "", width, "", c.Refused)
			continue
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
