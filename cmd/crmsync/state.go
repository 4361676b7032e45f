package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/ddbstore"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/health"
	"github.com/crmsync/crmsync/pkg/localstack"
)

// defaultLocalURL is where `crmsync local` serves its receivers and admin
// routes unless -addr says otherwise.
const defaultLocalURL = "http://127.0.0.1:8080"

// state is what the settings, errors and explain commands read and write:
// a store the CLI opens (the bbolt file, or a deployed stack's DynamoDB
// table), or a running `crmsync local` through its admin routes (which
// run the same code on the store the stack holds).
type state interface {
	// Settings returns the settings in force (the defaults when none are
	// stored).
	Settings(ctx context.Context) (crmsync.Settings, error)
	// PutSettings stores s; crmsync.ErrVersionConflict when the stored
	// settings changed since s was read, crmsync.ErrInvalid when invalid.
	PutSettings(ctx context.Context, s crmsync.Settings) (crmsync.Settings, error)
	// Errors and Explain are localstack.ListErrors and localstack.Explain.
	Errors(ctx context.Context, category crmsync.Category, limit int) (localstack.ErrorsReport, error)
	Explain(ctx context.Context, ref crmsync.RecordRef, limit int) (localstack.Explanation, error)
	// Preview is engine.Engine.Preview: what resolving ref now would do.
	Preview(ctx context.Context, ref crmsync.RecordRef) (engine.Preview, error)
	// Health is the Sync Health report.
	Health(ctx context.Context) (health.Report, error)
	// Plan is engine.Engine.PlanSettings: what proposed settings would do.
	Plan(ctx context.Context, proposed crmsync.Settings, batchSize int) (engine.SettingsPlan, error)
}

var (
	_ state = storeState{}
	_ state = (*localstack.AdminClient)(nil)
)

// storeState is state on a store the CLI opened.
type storeState struct{ st crmsync.Store }

func (s storeState) Settings(ctx context.Context) (crmsync.Settings, error) {
	return engine.LoadSettings(ctx, s.st)
}

func (s storeState) PutSettings(ctx context.Context, set crmsync.Settings) (crmsync.Settings, error) {
	return s.st.PutSettings(ctx, set)
}

// Health builds the Sync Health report from the store (the queue's state
// is the running stack's or the deployed page's to tell).
func (s storeState) Health(ctx context.Context) (health.Report, error) {
	h := &health.Handler{Store: s.st, Settings: func(ctx context.Context) (crmsync.Settings, error) { return engine.LoadSettings(ctx, s.st) }}
	return h.Build(ctx)
}

// Plan needs both CRMs, which only a running stack has here.
func (s storeState) Plan(ctx context.Context, proposed crmsync.Settings, batchSize int) (engine.SettingsPlan, error) {
	return engine.SettingsPlan{}, usageError("plan reads both CRMs: run it against the running stack (crmsync local; -local URL)")
}

// Preview needs both CRMs, which only a running stack has here.
func (s storeState) Preview(ctx context.Context, ref crmsync.RecordRef) (engine.Preview, error) {
	return engine.Preview{}, usageError("explain -eligibility reads both CRMs: run it against the running stack (crmsync local; -local URL)")
}

func (s storeState) Errors(ctx context.Context, category crmsync.Category, limit int) (localstack.ErrorsReport, error) {
	return localstack.ListErrors(ctx, s.st, category, limit)
}

func (s storeState) Explain(ctx context.Context, ref crmsync.RecordRef, limit int) (localstack.Explanation, error) {
	return localstack.Explain(ctx, s.st, ref, limit)
}

// stateFlags select the state a command works on: the local bbolt file
// (default), the DynamoDB table of a deployed stack with -table (AWS
// credentials and region from the usual AWS environment;
// CRMSYNC_DYNAMODB_ENDPOINT points at another endpoint, e.g. DynamoDB
// Local), or a running crmsync local with -local. While a running crmsync
// local holds the file, commands reach it by itself when it serves on
// $CRMSYNC_LOCAL (default http://127.0.0.1:8080) and holds that very file.
type stateFlags struct {
	data  *string
	table *string
	local *string
}

func addStateFlags(fs *flag.FlagSet) stateFlags {
	return stateFlags{
		data:  fs.String("data", "crmsync-local.db", "bbolt file holding the local state"),
		table: fs.String("table", os.Getenv("CRMSYNC_TABLE"), "DynamoDB table of a deployed stack (default $CRMSYNC_TABLE; empty = the local file)"),
		local: fs.String("local", "", "base URL of a running crmsync local, e.g. "+defaultLocalURL+" (found by itself when it holds -data)"),
	}
}

// open returns the state and a function that releases it, and says where
// it is.
func (f stateFlags) open(ctx context.Context) (state, func() error, string, error) {
	if *f.local != "" {
		if *f.table != "" {
			return nil, nil, "", usageError("-local and -table are exclusive")
		}
		return &localstack.AdminClient{BaseURL: *f.local}, func() error { return nil }, "local stack " + *f.local, nil
	}
	st, closeStore, where, err := openStore(ctx, *f.data, *f.table)
	if err == nil {
		return storeState{st}, closeStore, where, nil
	}
	if !errors.Is(err, bolterrors.ErrTimeout) {
		return nil, nil, "", err
	}
	if c, url, ok := runningStack(ctx, *f.data); ok {
		return c, func() error { return nil }, fmt.Sprintf("running local stack %s (holds %s)", url, *f.data), nil
	}
	return nil, nil, "", fmt.Errorf("%w: another process holds %s — a running crmsync local does; pass -local with its address "+
		"(the receivers' URL it printed), or stop it", err, *f.data)
}

// runningStack finds the running crmsync local that holds the file data.
func runningStack(ctx context.Context, data string) (*localstack.AdminClient, string, bool) {
	url := os.Getenv("CRMSYNC_LOCAL")
	if url == "" {
		url = defaultLocalURL
	}
	abs, err := filepath.Abs(data)
	if err != nil {
		return nil, "", false
	}
	c := &localstack.AdminClient{BaseURL: url}
	info, err := c.Info(ctx)
	if err != nil || info.DataFile != abs {
		return nil, "", false
	}
	return c, url, true
}

// openStore opens the bbolt file data, or the DynamoDB table when table is
// set.
func openStore(ctx context.Context, data, table string) (crmsync.Store, func() error, string, error) {
	if table == "" {
		st, err := boltstore.Open(data)
		if err != nil {
			return nil, nil, "", err // boltstore names the file
		}
		return st, st.Close, "bbolt " + data, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, "", fmt.Errorf("load AWS config: %w", err)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if ep := os.Getenv("CRMSYNC_DYNAMODB_ENDPOINT"); ep != "" {
			o.BaseEndpoint = &ep
		}
	})
	return ddbstore.New(client, table), func() error { return nil }, "DynamoDB table " + table, nil
}
