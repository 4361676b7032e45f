package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/crmsync/crmsync/pkg/boltstore"
	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/ddbstore"
)

// storeFlags selects the Store a command works on: the local bbolt file
// (default), or the DynamoDB table of a deployed stack with -table (AWS
// credentials and region from the usual AWS environment;
// CRMSYNC_DYNAMODB_ENDPOINT points at another endpoint, e.g. DynamoDB Local).
type storeFlags struct {
	data  *string
	table *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		data:  fs.String("data", "crmsync-local.db", "bbolt file holding the local state"),
		table: fs.String("table", os.Getenv("CRMSYNC_TABLE"), "DynamoDB table of a deployed stack (default $CRMSYNC_TABLE; empty = the local file)"),
	}
}

func (f storeFlags) open(ctx context.Context) (crmsync.Store, func() error, string, error) {
	if *f.table == "" {
		st, err := boltstore.Open(*f.data)
		if err != nil {
			return nil, nil, "", err // boltstore names the file
		}
		return st, st.Close, "bbolt " + *f.data, nil
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
	return ddbstore.New(client, *f.table), func() error { return nil }, "DynamoDB table " + *f.table, nil
}
