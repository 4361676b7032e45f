// Package ddbstore implements crmsync.Store on one DynamoDB table, the
// store crmsync uses in AWS.
//
// # Table
//
// One table (its name is configuration; template.yaml creates it, and
// CreateTable does the same for tests and local runs):
//
//   - key schema: partition key "PK" (S), sort key "SK" (S);
//   - one global secondary index "GSI1": partition key "GSI1PK" (S), sort
//     key "GSI1SK" (S), projection ALL;
//   - time to live on the attribute "ttl" (N, Unix seconds);
//   - billing mode PAY_PER_REQUEST.
//
// # Items
//
// Every item has PK and SK. Domain values are stored as their JSON
// encoding in "data" (S), so the item layout does not change when a
// domain type gains a field; only what conditions, indexes and TTL need is
// a top-level attribute. Ids and record keys are written as the domain
// spells them; a record key is RecordRef.Key(), "side/object/id".
//
//	kind        PK                      SK               GSI1PK              GSI1SK        other attributes
//	settings    SETTINGS                SETTINGS         -                   -             version N, data S
//	link        LINK#<link id>          LINK             LINKS               <link id>     version N, data S
//	link ref    REF#<record key>        REF              -                   -             link_id S
//	dedupe key  SEEN#<key>              SEEN             -                   -             ttl N
//	cursor      CURSOR#<side>/<object>  CURSOR           -                   -             data S
//	sync error  SYNCERR                 <record key>     SYNCERR#<category>  <record key>  data S, due S
//	lease       LEASE#<name>            LEASE            -                   -             owner S, until N, checkpoint S
//	API usage   USAGE#<side>            <bucket start>   -                   -             calls N, ttl N
//	ledger      LEDGER#<link id>        <at>#<entry id>  -                   -             data S, ttl N
//
// For example, the link between HubSpot contact 101 and Salesforce contact
// 003A is three items, with PK LINK#<id> (SK LINK), PK
// REF#hubspot/contact/101 (SK REF) and PK REF#salesforce/Contact/003A (SK
// REF). A link item holds the link's shadow, so it is bounded by
// DynamoDB's 400 KB item size (thousands of mapped fields).
//
// Times in sort keys (<bucket start>, <at>) are UTC in the fixed-width form
// 2006-01-02T15:04:05.000000000Z, so they sort as they happen.
//
// # Decisions
//
//   - Link uniqueness: a link item plus one "link ref" item per linked
//     record, written in one TransactWriteItems, each ref item conditional
//     on attribute_not_exists(PK). Of concurrent creates or updates that
//     claim one record, exactly one commits; a transaction cancelled only
//     by TransactionConflict (another transaction held an item) is retried
//     with jittered backoff until a condition decides it. Updates carry
//     "version = :read" on the link item; an update that changes no ref is
//     a single conditional PutItem. Cancellation reasons are mapped per
//     item: a failed version condition is ErrVersionConflict (or
//     ErrNotFound when the item is gone), a failed ref claim or id is
//     ErrConflict. DynamoDB Local runs transactions one at a time and
//     never reports TransactionConflict, so the retry and the mapping are
//     also tested against a scripted HTTP server (errors_test.go).
//   - Expiry: DynamoDB deletes expired items up to 48 hours late (DynamoDB
//     Local never does), so every read treats an item whose ttl is not
//     after now as absent: Seen's put is conditional on
//     "attribute_not_exists(PK) OR ttl <= :now", and ledger queries filter
//     on ttl. TTLs have one-second resolution, rounded up.
//   - API usage: one item per side and 5-minute bucket (crmsync.UsageBucket),
//     counted with an atomic ADD; APIUsage queries the bucket range of the
//     window (at most 289 small items). Buckets expire a day after they
//     stop counting.
//   - Listings: links are listed from GSI1 partition LINKS in id order; sync
//     errors from the SYNCERR partition in record-key order, or from GSI1
//     partition SYNCERR#<category>; counts are Query Select COUNT per
//     category, paged. These partitions take every write of their kind,
//     which is far below a partition's 1,000 writes per second for a sync
//     of one portal and org. GSI1 reads are eventually consistent, so a
//     link or error written a moment ago may be missing from the link
//     listing, a category listing or the counts; everything else (gets,
//     the all-categories listing, usage, ledger) reads consistently.
//   - Errors due for retry: a sync error with a NextRetry carries it as
//     "due" (the sort-key time form), and ListSyncErrorsDue is a
//     consistent query of the SYNCERR partition filtered on due <= now.
//     It reads every error (filtered items still cost reads) rather than a
//     second index keyed by due time, because errored records are few (a
//     sync error is a record a person has to fix) and the sweep asks every
//     15 minutes: a thousand 1 KB errors are about 125 read units per
//     sweep. A GSI2 keyed by due time would need a change to the table in
//     template.yaml and every existing table; it is the step to take if
//     error counts grow to tens of thousands. Errors written before "due"
//     existed are listed once they are written again.
//   - Leases: one item per name, taken with a conditional UpdateItem
//     (free, expired, released or already the caller's), so of
//     concurrent takers exactly one succeeds; "until" is Unix nanoseconds
//     by the store's clock. The update leaves the checkpoint in place;
//     release removes the owner and sets the checkpoint, conditional on
//     the owner.
//   - Page tokens are the base64url JSON of the query's LastEvaluatedKey.
//     Pages are filled (a filtered query is repeated) and one item more is
//     asked for, so the last page never carries a token.
//   - Failures of DynamoDB itself are *Error values; Transient reports
//     throttling, server faults, transaction conflicts, timeouts and
//     network errors, which the caller retries.
package ddbstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Attribute and index names (see the package doc).
const (
	attrPK      = "PK"
	attrSK      = "SK"
	attrGSI1PK  = "GSI1PK"
	attrGSI1SK  = "GSI1SK"
	attrVersion = "version"
	attrData    = "data"
	attrLinkID  = "link_id"
	attrCalls   = "calls"
	attrTTL     = "ttl"
	attrDue     = "due"
	attrOwner   = "owner"
	attrUntil   = "until"
	attrCheck   = "checkpoint"
	// IndexGSI1 is the name of the table's one global secondary index.
	IndexGSI1 = "GSI1"
)

// DefaultLedgerRetention is how long ledger entries are kept unless
// WithLedgerRetention says otherwise.
const DefaultLedgerRetention = 90 * 24 * time.Hour

// keyTime is the fixed-width, sortable form of times in sort keys.
const keyTime = "2006-01-02T15:04:05.000000000Z"

// item is every kind of item; unused attributes are omitted.
type item struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	GSI1PK  string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK  string `dynamodbav:"GSI1SK,omitempty"`
	Version int64  `dynamodbav:"version,omitempty"`
	LinkID  string `dynamodbav:"link_id,omitempty"`
	Data    string `dynamodbav:"data,omitempty"`
	Calls   int64  `dynamodbav:"calls,omitempty"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
	Due     string `dynamodbav:"due,omitempty"`
	Owner   string `dynamodbav:"owner,omitempty"`
	Until   int64  `dynamodbav:"until,omitempty"`
	// Checkpoint is a lease's checkpoint.
	Checkpoint string `dynamodbav:"checkpoint,omitempty"`
}

// Store is a crmsync.Store on one DynamoDB table. Safe for concurrent use.
type Store struct {
	client          *dynamodb.Client
	table           *string
	now             func() time.Time
	retention       time.Duration
	conflictRetries int
}

var _ crmsync.Store = (*Store)(nil)

// Option configures New.
type Option func(*Store)

// WithClock sets the clock TTLs and retention are measured with
// (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLedgerRetention sets how long ledger entries are kept after they are
// appended (DefaultLedgerRetention by default).
func WithLedgerRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

// WithConflictRetries sets how often a transaction cancelled only by
// TransactionConflict is retried before the conflict is returned as a
// transient error (10 by default).
func WithConflictRetries(n int) Option { return func(s *Store) { s.conflictRetries = n } }

// New returns the store on table, which must have the layout in the
// package doc (see CreateTable).
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: aws.String(table), now: time.Now,
		retention: DefaultLedgerRetention, conflictRetries: 10}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Error is a failure of DynamoDB itself, as opposed to a refused condition
// (those wrap the crmsync sentinels).
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return "ddbstore: " + e.Op + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether the same call may succeed later: throttling,
// server faults (5xx), transaction conflicts, timeouts and network errors.
func (e *Error) Transient() bool { return transient(e.Err) }

var transientCodes = map[string]bool{
	"ThrottlingException":                    true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"TransactionInProgressException":         true,
	"TransactionConflictException":           true,
}

var transientReasons = map[string]bool{
	"TransactionConflict":           true,
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
}

func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if transientReasons[aws.ToString(r.Code)] {
				return true
			}
		}
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && (status.HTTPStatusCode() >= 500 || status.HTTPStatusCode() == 429) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) && (transientCodes[api.ErrorCode()] || api.ErrorFault() == smithy.FaultServer) {
		return true
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) {
		return true // a network error: dial, reset, timeout
	}
	return false
}

func (s *Store) fail(op string, err error) error { return &Error{Op: op, Err: err} }

func linkPK(id string) string            { return "LINK#" + id }
func refPK(ref crmsync.RecordRef) string { return "REF#" + ref.Key() }

const (
	skLink = "LINK"
	skRef  = "REF"
)

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func marshal(it item) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode item %s/%s: %w", it.PK, it.SK, err)
	}
	return av, nil
}

func unmarshal(av map[string]types.AttributeValue) (item, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return item{}, fmt.Errorf("decode item: %w", err)
	}
	return it, nil
}

// decodeData unmarshals the JSON data of it into v.
func decodeData(it item, v any) error {
	if err := json.Unmarshal([]byte(it.Data), v); err != nil {
		return fmt.Errorf("decode %s/%s: %w", it.PK, it.SK, err)
	}
	return nil
}

func encodeData(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return string(b), nil
}

func build(b expression.Builder) (expression.Expression, error) {
	expr, err := b.Build()
	if err != nil {
		return expression.Expression{}, fmt.Errorf("build expression: %w", err)
	}
	return expr, nil
}

// condition returns the condition expression of cond.
func condition(cond expression.ConditionBuilder) (expression.Expression, error) {
	return build(expression.NewBuilder().WithCondition(cond))
}

var notExists = expression.AttributeNotExists(expression.Name(attrPK))

func versionIs(v int64) expression.ConditionBuilder {
	return expression.Name(attrVersion).Equal(expression.Value(v))
}

// getItem reads one item consistently; ok is false when it is absent.
func (s *Store) getItem(ctx context.Context, pk, sk string) (it item, ok bool, err error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return item{}, false, err
	}
	if out.Item == nil {
		return item{}, false, nil
	}
	it, err = unmarshal(out.Item)
	return it, err == nil, err
}

// putItem writes it, conditional on cond when cond is set. A failed
// condition returns the item as it was (nil when absent) and
// errConditionFailed.
func (s *Store) putItem(ctx context.Context, it item, cond *expression.ConditionBuilder) (map[string]types.AttributeValue, error) {
	av, err := marshal(it)
	if err != nil {
		return nil, err
	}
	return s.putAV(ctx, av, cond)
}

// putAV is putItem for a marshalled item.
func (s *Store) putAV(ctx context.Context, av map[string]types.AttributeValue, cond *expression.ConditionBuilder) (map[string]types.AttributeValue, error) {
	in := &dynamodb.PutItemInput{TableName: s.table, Item: av}
	if cond != nil {
		expr, err := condition(*cond)
		if err != nil {
			return nil, err
		}
		in.ConditionExpression = expr.Condition()
		in.ExpressionAttributeNames = expr.Names()
		in.ExpressionAttributeValues = expr.Values()
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	_, err := s.client.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, errConditionFailed
	}
	return nil, err
}

// errConditionFailed marks a refused condition inside this package; it
// never leaves it.
var errConditionFailed = errors.New("condition failed")

// GetSettings implements crmsync.Store.
func (s *Store) GetSettings(ctx context.Context) (crmsync.Settings, error) {
	const op = "get settings"
	it, ok, err := s.getItem(ctx, "SETTINGS", "SETTINGS")
	if err != nil {
		return crmsync.Settings{}, s.fail(op, err)
	}
	if !ok {
		return crmsync.Settings{}, fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
	}
	var out crmsync.Settings
	if err := decodeData(it, &out); err != nil {
		return crmsync.Settings{}, s.fail(op, err)
	}
	return out, nil
}

// PutSettings implements crmsync.Store.
func (s *Store) PutSettings(ctx context.Context, in crmsync.Settings) (crmsync.Settings, error) {
	const op = "put settings"
	if err := in.Validate(); err != nil {
		return crmsync.Settings{}, fmt.Errorf("ddbstore: %s: %w", op, err)
	}
	cond := notExists
	if in.Version != 0 {
		cond = versionIs(in.Version)
	}
	out := in
	out.Version++
	data, err := encodeData(out)
	if err != nil {
		return crmsync.Settings{}, s.fail(op, err)
	}
	_, err = s.putItem(ctx, item{PK: "SETTINGS", SK: "SETTINGS", Version: out.Version, Data: data}, &cond)
	if errors.Is(err, errConditionFailed) {
		return crmsync.Settings{}, fmt.Errorf("ddbstore: %s: given version %d is not the stored one: %w", op, in.Version, crmsync.ErrVersionConflict)
	}
	if err != nil {
		return crmsync.Settings{}, s.fail(op, err)
	}
	return out, nil
}

// GetCursor implements crmsync.Store.
func (s *Store) GetCursor(ctx context.Context, side crmsync.Side, object crmsync.ObjectType) (crmsync.Cursor, error) {
	pk := "CURSOR#" + string(side) + "/" + string(object)
	op := "get cursor " + pk
	it, ok, err := s.getItem(ctx, pk, "CURSOR")
	if err != nil {
		return crmsync.Cursor{}, s.fail(op, err)
	}
	if !ok {
		return crmsync.Cursor{}, fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
	}
	var out crmsync.Cursor
	if err := decodeData(it, &out); err != nil {
		return crmsync.Cursor{}, s.fail(op, err)
	}
	return out, nil
}

// PutCursor implements crmsync.Store.
func (s *Store) PutCursor(ctx context.Context, c crmsync.Cursor) error {
	pk := "CURSOR#" + string(c.Side) + "/" + string(c.Object)
	op := "put cursor " + pk
	if !c.Side.Valid() || c.Object.Side() != c.Side {
		return fmt.Errorf("ddbstore: %s: %w: not an object of that side", op, crmsync.ErrInvalid)
	}
	data, err := encodeData(c)
	if err != nil {
		return s.fail(op, err)
	}
	if _, err := s.putItem(ctx, item{PK: pk, SK: "CURSOR", Data: data}, nil); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// expiry returns the ttl attribute of an item that lives for d from now:
// Unix seconds, rounded up so it never lives shorter than d.
func expiry(now time.Time, d time.Duration) int64 {
	t := now.Add(d)
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

// Seen implements crmsync.Store with one conditional PutItem.
func (s *Store) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	op := "seen " + key
	if ttl <= 0 {
		return false, fmt.Errorf("ddbstore: %s: %w: ttl %v is not positive", op, crmsync.ErrInvalid, ttl)
	}
	now := s.now()
	cond := notExists.Or(expression.Name(attrTTL).LessThanEqual(expression.Value(now.Unix())))
	_, err := s.putItem(ctx, item{PK: "SEEN#" + key, SK: "SEEN", TTL: expiry(now, ttl)}, &cond)
	if errors.Is(err, errConditionFailed) {
		return true, nil
	}
	if err != nil {
		return false, s.fail(op, err)
	}
	return false, nil
}

// Forget implements crmsync.Store.
func (s *Store) Forget(ctx context.Context, dedupeKey string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: key("SEEN#"+dedupeKey, "SEEN")})
	if err != nil {
		return s.fail("forget "+dedupeKey, err)
	}
	return nil
}

// encodeToken and decodeToken turn a LastEvaluatedKey (all of whose
// attributes are strings here) into an opaque page token and back.
func encodeToken(lek map[string]types.AttributeValue) (string, error) {
	var m map[string]string
	if err := attributevalue.UnmarshalMap(lek, &m); err != nil {
		return "", fmt.Errorf("encode page token: %w", err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode page token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeToken(token string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	var m map[string]string
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || len(m) == 0 {
		return nil, fmt.Errorf("%w: malformed page token", crmsync.ErrInvalid)
	}
	lek, err := attributevalue.MarshalMap(m)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed page token", crmsync.ErrInvalid)
	}
	return lek, nil
}

// queryPage runs in from the page's token and returns up to page.Size()
// items and the token of the next page. It asks for one item more than the
// page holds, so that the token is "" exactly on the last page, and repeats
// the query while a filter leaves the page short. keys are the attributes
// that make an item's LastEvaluatedKey (the table's key, plus the index's
// for an index query).
func (s *Store) queryPage(ctx context.Context, in *dynamodb.QueryInput, page crmsync.PageRequest, keys []string) ([]item, string, error) {
	size := page.Size()
	if page.Token != "" {
		start, err := decodeToken(page.Token)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	var raw []map[string]types.AttributeValue
	for {
		in.Limit = aws.Int32(int32(size + 1 - len(raw)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		raw = append(raw, out.Items...)
		if len(raw) > size || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var next string
	if len(raw) > size {
		raw = raw[:size]
		lek := map[string]types.AttributeValue{}
		for _, k := range keys {
			lek[k] = raw[size-1][k]
		}
		var err error
		if next, err = encodeToken(lek); err != nil {
			return nil, "", err
		}
	}
	items := make([]item, len(raw))
	for i, av := range raw {
		var err error
		if items[i], err = unmarshal(av); err != nil {
			return nil, "", err
		}
	}
	return items, next, nil
}

// sleepBackoff waits before retry attempt n (0-based): full jitter over an
// exponential ceiling from 5 ms to 200 ms.
func sleepBackoff(ctx context.Context, n int) error {
	ceiling := min(5*time.Millisecond<<n, 200*time.Millisecond)
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// keyTimeOf formats t for a sort key.
func keyTimeOf(t time.Time) string { return t.UTC().Format(keyTime) }
