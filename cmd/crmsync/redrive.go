package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

const redriveUsage = `usage: crmsync redrive [-since T] [-until T] [-queue-url URL [-dlq-url URL] | -local URL]

Moves dead-lettered triggers — those the worker failed MaxReceiveCount times
— back onto the trigger queue, all of them or those dead-lettered in a time
range, and says how many. Fix the cause first (the worker's log names the
record); the worker re-reads each record, so a redriven trigger syncs what
is there now.

  -since T, -until T   dead-lettered at or after T / before T: a time
                       (2026-12-03T09:00:00Z, or 2026-12-03 09:00 in UTC) or a
                       duration ago (90m, 2h, 3d)

Where (one of):
  -queue-url URL   the deployed stack's trigger queue (default $TRIGGER_QUEUE_URL;
                   the stack output TriggerQueueURL). Its dead-letter queue comes
                   from the queue's redrive policy, or -dlq-url (default
                   $TRIGGER_DEAD_LETTER_QUEUE_URL; the output TriggerDeadLetterQueueURL).
                   SQS's own redrive (StartMessageMoveTask) does not take FIFO
                   dead-letter queues, so crmsync receives each trigger, sends it
                   to the queue in its message group and deletes it after. AWS
                   credentials as for resync; CRMSYNC_SQS_ENDPOINT for another endpoint.
  -local URL       a running 'crmsync local' (its in-process queue keeps its dead
                   letters in memory: they are gone once it stops).
`

func setupRedrive(fs *flag.FlagSet) runFunc {
	queueURL := fs.String("queue-url", os.Getenv("TRIGGER_QUEUE_URL"), "SQS trigger queue URL (default $TRIGGER_QUEUE_URL)")
	dlqURL := fs.String("dlq-url", os.Getenv("TRIGGER_DEAD_LETTER_QUEUE_URL"), "SQS dead-letter queue URL (default $TRIGGER_DEAD_LETTER_QUEUE_URL, else the queue's redrive policy)")
	local := fs.String("local", "", "base URL of a running crmsync local, e.g. "+defaultLocalURL)
	sinceFlag := fs.String("since", "", "only triggers dead-lettered at or after this time (or duration ago)")
	untilFlag := fs.String("until", "", "only triggers dead-lettered before this time (or duration ago)")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("redrive", args, 0, ""); err != nil {
			return err
		}
		now := time.Now()
		since, err := parseWhen(*sinceFlag, now)
		if err != nil {
			return usageError("redrive: -since: " + err.Error())
		}
		until, err := parseWhen(*untilFlag, now)
		if err != nil {
			return usageError("redrive: -until: " + err.Error())
		}
		if !since.IsZero() && !until.IsZero() && !since.Before(until) {
			return usageError("redrive: -since must be before -until")
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if *local != "" && (set["queue-url"] || set["dlq-url"]) {
			return usageError("redrive: -local and -queue-url/-dlq-url are exclusive")
		}
		if *local == "" && *queueURL == "" {
			return usageError("redrive: no queue: pass -queue-url (or set $TRIGGER_QUEUE_URL) for a deployed stack, or -local URL for crmsync local")
		}
		rng := describeRange(since, until)
		if *local != "" {
			n, err := (&localstack.AdminClient{BaseURL: *local}).Redrive(ctx, since, until)
			if err != nil {
				return fmt.Errorf("redrive: %d moved, then: %w", n, err)
			}
			fmt.Fprintf(out, "redrove %d dead-lettered trigger%s%s back onto the queue of the local stack %s\n", n, plural(n), rng, *local)
			return nil
		}
		client, err := sqsClient(ctx)
		if err != nil {
			return err
		}
		dlq := *dlqURL
		if dlq == "" {
			if dlq, err = sqsqueue.DeadLetterQueueURL(ctx, client, *queueURL); err != nil {
				return fmt.Errorf("redrive: find the dead-letter queue (or pass -dlq-url): %w", err)
			}
		}
		res, err := sqsqueue.Redrive(ctx, client, dlq, *queueURL, since, until)
		if err != nil {
			return fmt.Errorf("redrive: %d moved, then: %w", res.Moved, err)
		}
		fmt.Fprintf(out, "redrove %d dead-lettered trigger%s%s from %s to %s\n", res.Moved, plural(res.Moved), rng, dlq, *queueURL)
		if res.Skipped > 0 {
			fmt.Fprintf(out, "%d left in the dead-letter queue: dead-lettered outside the range\n", res.Skipped)
		}
		return nil
	}
}

// parseWhen reads a time: empty (no bound), RFC 3339, "2006-01-02
// 15:04" (UTC), a date, or a duration before now ("90m", "2h", "3d").
func parseWhen(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && fmt.Sprint(n) == days && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a duration ago must not be negative", v)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a time (2026-12-03T09:00:00Z, 2026-12-03 09:00) nor a duration ago (90m, 2h, 3d)", v)
}

func describeRange(since, until time.Time) string {
	switch {
	case since.IsZero() && until.IsZero():
		return ""
	case until.IsZero():
		return " (dead-lettered since " + stamp(since) + ")"
	case since.IsZero():
		return " (dead-lettered before " + stamp(until) + ")"
	}
	return " (dead-lettered from " + stamp(since) + " to " + stamp(until) + ")"
}
