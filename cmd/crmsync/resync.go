package main

import (
	"context"
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
	"github.com/crmsync/crmsync/pkg/health"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/localstack"
	"github.com/crmsync/crmsync/pkg/sqsqueue"
)

const resyncUsage = `usage:
  crmsync resync [-queue-url URL | -local URL] <side> <object> <id>
  crmsync resync -errors [-category C] [-queue-url URL [-data FILE | -table NAME] | -local URL]
  crmsync resync -list ID [-object O] [-queue-url URL | -local URL]

Enqueues a manual resync (trigger kind manual_resync): the worker re-reads the
record and syncs it as if it had just changed, whatever its retry schedule
says. Each call enqueues anew (its dedupe key is unique), so a resync is never
dropped as a repeat. With -errors it enqueues every record that has a sync
error (of one category with -category): fix the cause, then retry them.
With -list it enqueues every member of a HubSpot list (contact lists, as
HubSpot's connector syncs them by hand; -object for lists of another
object), page by page, showing its progress.

  side     hubspot | salesforce
  object   hubspot: contact, company, deal, …; salesforce: Lead, Contact, Account, Opportunity, …
  id       the record's id on that side

Where the triggers go (one of):
  -queue-url URL   the deployed stack's trigger queue (default $TRIGGER_QUEUE_URL;
                   the stack output TriggerQueueURL). AWS credentials and region come
                   from the usual AWS environment; CRMSYNC_SQS_ENDPOINT points at
                   another SQS endpoint (e.g. fauxqs). -errors reads the errors from
                   -table (default $CRMSYNC_TABLE) or -data; -list reads the list with
                   CRMSYNC_HUBSPOT_TOKEN (and CRMSYNC_HUBSPOT_BASE_URL).
  -local URL       a running 'crmsync local' (its receivers' address, e.g.
                   http://127.0.0.1:8080); the local stack reads its own errors and lists.
`

func setupResync(fs *flag.FlagSet) runFunc {
	queueURL := fs.String("queue-url", os.Getenv("TRIGGER_QUEUE_URL"), "SQS trigger queue URL (default $TRIGGER_QUEUE_URL)")
	local := fs.String("local", "", "base URL of a running crmsync local, e.g. "+defaultLocalURL)
	data := fs.String("data", "crmsync-local.db", "with -errors and -queue-url: bbolt file holding the sync errors")
	table := fs.String("table", os.Getenv("CRMSYNC_TABLE"), "with -errors and -queue-url: DynamoDB table holding the sync errors (default $CRMSYNC_TABLE)")
	all := fs.Bool("errors", false, "enqueue every record with a sync error")
	category := fs.String("category", "", "with -errors: only this category ("+categoryNames()+")")
	list := fs.String("list", "", "enqueue every member of this HubSpot list (its id)")
	listObject := fs.String("object", "contact", "with -list: the HubSpot object type of the list's members")
	return func(ctx context.Context, out io.Writer, args []string) error {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		var cat crmsync.Category
		var err error
		if *category != "" {
			if !*all {
				return usageError("resync: -category needs -errors")
			}
			if cat, err = parseCategory(*category); err != nil {
				return usageError("resync: " + err.Error())
			}
		}
		var ref crmsync.RecordRef
		var listType crmsync.ObjectType
		switch {
		case *all && *list != "":
			return usageError("resync: -errors and -list are exclusive")
		case *all || *list != "":
			if err := wantArgs("resync", args, 0, ""); err != nil {
				return err
			}
		default:
			if err := wantArgs("resync", args, 3, "<side> <object> <id>"); err != nil {
				return err
			}
			if ref, err = parseRef(args[0], args[1], args[2]); err != nil {
				return usageError("resync: " + err.Error())
			}
		}
		if set["object"] && *list == "" {
			return usageError("resync: -object needs -list")
		}
		if *list != "" {
			r, err := parseRef("hubspot", *listObject, "-")
			if err != nil {
				return usageError("resync: -object: " + err.Error())
			}
			listType = r.Object
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

		var dest resyncDest
		var where string
		if *local != "" {
			where = "local stack " + *local
			dest = &localResync{c: &localstack.AdminClient{BaseURL: *local}}
		} else {
			where = "SQS queue " + *queueURL
			client, err := sqsClient(ctx)
			if err != nil {
				return err
			}
			dest = &sqsResync{queue: sqsqueue.New(client, *queueURL), data: *data, table: *table}
		}
		var done []localstack.Enqueued
		switch {
		case *list != "":
			return resyncList(ctx, out, dest, *list, listType, where)
		case *all:
			done, err = dest.errors(ctx, cat)
		default:
			done, err = dest.one(ctx, ref)
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
}

// resyncDest is where resync enqueues: a running local stack, or SQS.
type resyncDest interface {
	one(ctx context.Context, ref crmsync.RecordRef) ([]localstack.Enqueued, error)
	errors(ctx context.Context, cat crmsync.Category) ([]localstack.Enqueued, error)
	// listPage enqueues one page of a HubSpot list and returns the next
	// page's cursor ("" after the last).
	listPage(ctx context.Context, req localstack.ResyncListRequest) ([]localstack.Enqueued, string, error)
}

type localResync struct{ c *localstack.AdminClient }

func (l *localResync) one(ctx context.Context, ref crmsync.RecordRef) ([]localstack.Enqueued, error) {
	return l.c.Resync(ctx, ref)
}

func (l *localResync) errors(ctx context.Context, cat crmsync.Category) ([]localstack.Enqueued, error) {
	return l.c.ResyncErrors(ctx, cat)
}

func (l *localResync) listPage(ctx context.Context, req localstack.ResyncListRequest) ([]localstack.Enqueued, string, error) {
	return l.c.ResyncList(ctx, req)
}

// sqsResync sends to an SQS queue; the errored records are read from the
// store of data or table, lists with the HubSpot token in the environment.
type sqsResync struct {
	queue       *sqsqueue.Queue
	data, table string
	lists       localstack.ListMembers
}

func (s *sqsResync) one(ctx context.Context, ref crmsync.RecordRef) ([]localstack.Enqueued, error) {
	return s.send(ctx, []crmsync.Trigger{health.ResyncTrigger(ref, time.Now())})
}

func (s *sqsResync) errors(ctx context.Context, cat crmsync.Category) ([]localstack.Enqueued, error) {
	st, closeStore, _, err := openStore(ctx, s.data, s.table)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: another process holds %s — a running crmsync local does; stop it first (or use resync -local)", err, s.data)
	}
	if err != nil {
		return nil, err
	}
	defer closeStore()
	ts, err := health.ResyncErrorTriggers(ctx, st, cat, time.Now())
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return s.send(ctx, ts)
}

func (s *sqsResync) listPage(ctx context.Context, req localstack.ResyncListRequest) ([]localstack.Enqueued, string, error) {
	if s.lists == nil {
		cfg := loadOnlineConfig(os.Getenv)
		if cfg.HubSpotToken == "" {
			return nil, "", usageError("resync -list: set CRMSYNC_HUBSPOT_TOKEN (a private app token with crm.lists.read) to read the list")
		}
		opts := []hubspot.Option{hubspot.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}), hubspot.WithPrivateAppToken(cfg.HubSpotToken)}
		if cfg.HubSpotBaseURL != "" {
			opts = append(opts, hubspot.WithBaseURL(cfg.HubSpotBaseURL))
		}
		hs, err := hubspot.NewClient(opts...)
		if err != nil {
			return nil, "", fmt.Errorf("HubSpot client: %w", err)
		}
		s.lists = hs
	}
	ids, next, err := s.lists.ListMembers(ctx, req.ListID, req.After, req.Limit)
	if err != nil {
		return nil, "", err
	}
	ts, err := localstack.ResyncListTriggers(req.Object, ids, time.Now())
	if err != nil {
		return nil, "", err
	}
	done, err := s.send(ctx, ts)
	return done, next, err
}

// send sends ts and returns those enqueued.
func (s *sqsResync) send(ctx context.Context, ts []crmsync.Trigger) ([]localstack.Enqueued, error) {
	sendErr := s.queue.Send(ctx, ts)
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

// sqsClient builds the SQS client from the usual AWS environment
// (CRMSYNC_SQS_ENDPOINT points at another endpoint, e.g. fauxqs).
func sqsClient(ctx context.Context) (*sqs.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if ep := os.Getenv("CRMSYNC_SQS_ENDPOINT"); ep != "" {
			o.BaseEndpoint = &ep
		}
	}), nil
}

// listPageSize is how many list members one page enqueues.
const listPageSize = 100

// resyncList enqueues every member of a HubSpot list, page by page, with
// a progress bar on standard error's terminal (or one line per page when
// out is not a terminal).
func resyncList(ctx context.Context, out io.Writer, dest resyncDest, listID string, object crmsync.ObjectType, where string) error {
	bar := newProgress(out, fmt.Sprintf("list %s", listID))
	req := localstack.ResyncListRequest{ListID: listID, Object: object, Limit: listPageSize}
	total := 0
	for {
		done, next, err := dest.listPage(ctx, req)
		total += len(done)
		bar.add(len(done))
		if err != nil {
			bar.finish()
			return fmt.Errorf("resync -list %s: %d enqueued, then: %w", listID, total, err)
		}
		if next == "" {
			break
		}
		req.After = next
	}
	bar.finish()
	fmt.Fprintf(out, "%d member%s of HubSpot list %s (%s) enqueued to %s\n", total, plural(total), listID, object, where)
	return nil
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
