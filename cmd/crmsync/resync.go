package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

const resyncUsage = `usage:
  crmsync resync [-queue-url URL | -local URL] <side> <object> <id>
  crmsync resync -errors [-category C] [-queue-url URL [-data FILE | -table NAME] | -local URL]

Enqueues a manual resync (trigger kind manual_resync): the worker re-reads the
record and syncs it as if it had just changed, whatever its retry schedule
says. Each call enqueues anew (its dedupe key is unique), so a resync is never
dropped as a repeat. With -errors it enqueues every record that has a sync
error (of one category with -category): fix the cause, then retry them.

  side     hubspot | salesforce
  object   hubspot: contact, company, deal, …; salesforce: Lead, Contact, Account, Opportunity, …
  id       the record's id on that side

Where the triggers go (one of):
  -queue-url URL   the deployed stack's trigger queue (default $TRIGGER_QUEUE_URL;
                   the stack output TriggerQueueURL). AWS credentials and region come
                   from the usual AWS environment; CRMSYNC_SQS_ENDPOINT points at
                   another SQS endpoint (e.g. fauxqs). -errors reads the errors from
                   -table (default $CRMSYNC_TABLE) or -data.
  -local URL       a running 'crmsync local' (its receivers' address, e.g.
                   http://127.0.0.1:8080); the local stack reads its own errors.
`

// runResync enqueues manual-resync triggers and prints each.
func runResync(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("resync", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, resyncUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	queueURL := fs.String("queue-url", os.Getenv("TRIGGER_QUEUE_URL"), "SQS trigger queue URL (default $TRIGGER_QUEUE_URL)")
	local := fs.String("local", "", "base URL of a running crmsync local, e.g. http://127.0.0.1:8080")
	all := fs.Bool("errors", false, "enqueue every record with a sync error")
	category := fs.String("category", "", "with -errors: only this category ("+categoryNames()+")")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("resync: " + err.Error())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var cat crmsync.Category
	if *category != "" {
		if !*all {
			return usageError("resync: -category needs -errors")
		}
		if cat, err = parseCategory(*category); err != nil {
			return usageError("resync: " + err.Error())
		}
	}
	var ref crmsync.RecordRef
	switch {
	case *all && len(pos) != 0:
		return usageError("resync: -errors takes no record")
	case !*all && len(pos) != 3:
		fmt.Fprint(out, resyncUsage)
		return usageError("resync: want <side> <object> <id>")
	case !*all:
		if ref, err = parseRef(pos[0], pos[1], pos[2]); err != nil {
			return usageError("resync: " + err.Error())
		}
	}
	if *local != "" && set["queue-url"] {
		return usageError("resync: -local and -queue-url are exclusive")
	}
	if *local != "" && (set["data"] || set["table"]) {
		return usageError("resync: with -local the local stack reads its own store; drop -data/-table")
	}
	if *local == "" && *queueURL == "" {
		return usageError("resync: no queue: pass -queue-url (or set $TRIGGER_QUEUE_URL) for a deployed stack, or -local URL for crmsync local")
	}

	var done []localstack.Enqueued
	var where string
	if *local != "" {
		where = "local stack " + *local
		done, err = resyncLocal(ctx, *local, *all, ref, cat)
	} else {
		where = "SQS queue " + *queueURL
		done, err = resyncSQS(ctx, *queueURL, sf, *all, ref, cat)
	}
	for _, e := range done {
		fmt.Fprintf(out, "enqueued  %-40s  manual_resync  dedupe key %s\n", e.Record, e.DedupeKey)
	}
	if err != nil {
		if len(done) > 0 {
			return fmt.Errorf("resync: %d enqueued, then: %w", len(done), err)
		}
		return fmt.Errorf("resync: %w", err)
	}
	switch {
	case len(done) == 0 && cat != "":
		fmt.Fprintf(out, "no records with %s sync errors: nothing enqueued\n", cat)
	case len(done) == 0:
		fmt.Fprintln(out, "no records with sync errors: nothing enqueued")
	default:
		fmt.Fprintf(out, "%d enqueued to %s\n", len(done), where)
	}
	return nil
}

// resyncSQS sends the triggers to an SQS queue; the errored records are
// read from the store of sf.
func resyncSQS(ctx context.Context, queueURL string, sf storeFlags, all bool, ref crmsync.RecordRef, cat crmsync.Category) ([]localstack.Enqueued, error) {
	now := time.Now()
	ts := []crmsync.Trigger{localstack.ResyncTrigger(ref, now)}
	if all {
		st, closeStore, _, err := openStore(ctx, sf)
		if err != nil {
			return nil, err
		}
		defer closeStore()
		if ts, err = localstack.ResyncErrorTriggers(ctx, st, cat, now); err != nil {
			return nil, err
		}
		if len(ts) == 0 {
			return nil, nil
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if ep := os.Getenv("CRMSYNC_SQS_ENDPOINT"); ep != "" {
			o.BaseEndpoint = &ep
		}
	})
	sendErr := sqsqueue.New(client, queueURL).Send(ctx, ts)
	var se *crmsync.SendError
	if sendErr != nil && !errors.As(sendErr, &se) {
		return nil, sendErr
	}
	var done []localstack.Enqueued
	for i, t := range ts {
		if se == nil || se.Failed[i] == nil {
			done = append(done, localstack.Enqueued{Record: t.Record, DedupeKey: t.DedupeKey})
		}
	}
	return done, sendErr
}

// resyncLocal asks a running local stack's admin endpoint to enqueue.
func resyncLocal(ctx context.Context, base string, all bool, ref crmsync.RecordRef, cat crmsync.Category) ([]localstack.Enqueued, error) {
	path, req := "resync", localstack.ResyncRequest{Side: ref.Side, Object: ref.Object, ID: ref.ID}
	if all {
		path, req = "resync-errors", localstack.ResyncRequest{Category: cat}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	url := strings.TrimSuffix(base, "/") + localstack.AdminPath + path
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("local stack: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("local stack (is crmsync local running there?): %w", err)
	}
	defer resp.Body.Close()
	var rr localstack.ResyncResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&rr); err != nil {
		return nil, fmt.Errorf("local stack: POST %s answered %s that is not an admin answer: %w", url, resp.Status, err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return rr.Enqueued, fmt.Errorf("local stack: POST %s answered %s: %s", url, resp.Status, rr.Error)
	}
	return rr.Enqueued, nil
}

// parseRef reads <side> <object> <id>. Object types match case-insensitively
// ("lead" is Salesforce's Lead). Unknown ones are usage errors that list the
// known ones.
func parseRef(side, object, id string) (crmsync.RecordRef, error) {
	s := crmsync.Side(strings.ToLower(side))
	if !s.Valid() {
		return crmsync.RecordRef{}, usageError(fmt.Sprintf("unknown side %q (want hubspot or salesforce)", side))
	}
	var names []string
	for _, o := range crmsync.ObjectTypes(s) {
		if strings.EqualFold(string(o), object) {
			if id == "" {
				return crmsync.RecordRef{}, usageError("empty record id")
			}
			return crmsync.RecordRef{Side: s, Object: o, ID: id}, nil
		}
		names = append(names, string(o))
	}
	return crmsync.RecordRef{}, usageError(fmt.Sprintf("unknown %s object %q (want one of %s)", s, object, strings.Join(names, ", ")))
}

// parseCategory reads a sync-error category, case-insensitively.
func parseCategory(name string) (crmsync.Category, error) {
	for _, c := range crmsync.Categories {
		if strings.EqualFold(string(c), name) {
			return c, nil
		}
	}
	return "", usageError(fmt.Sprintf("unknown category %q (want one of %s)", name, categoryNames()))
}

func categoryNames() string {
	var names []string
	for _, c := range crmsync.Categories {
		names = append(names, fmt.Sprintf("%q", c))
	}
	return strings.Join(names, ", ")
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil // after "--" everything is positional
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// openStore opens the store of sf, saying what to do when a running
// `crmsync local` holds the bbolt file.
func openStore(ctx context.Context, sf storeFlags) (crmsync.Store, func() error, string, error) {
	st, closeStore, where, err := sf.open(ctx)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, nil, "", fmt.Errorf("%w: another process holds the file — a running crmsync local does; stop it first "+
			"(or use resync -local)", err)
	}
	return st, closeStore, where, err
}
