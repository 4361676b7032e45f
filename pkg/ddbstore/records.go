package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/crmsync/crmsync/pkg/crmsync"
)

const pkSyncErrors = "SYNCERR"

func categoryPK(c crmsync.Category) string { return pkSyncErrors + "#" + string(c) }

// PutSyncError implements crmsync.Store.
func (s *Store) PutSyncError(ctx context.Context, e crmsync.SyncError) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("ddbstore: put sync error: %w", err)
	}
	op := "put sync error " + e.Record.Key()
	data, err := encodeData(e)
	if err == nil {
		it := item{PK: pkSyncErrors, SK: e.Record.Key(),
			GSI1PK: categoryPK(e.Category), GSI1SK: e.Record.Key(), Data: data}
		if !e.NextRetry.IsZero() {
			it.Due = keyTimeOf(e.NextRetry)
		}
		_, err = s.putItem(ctx, it, nil)
	}
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

// GetSyncError implements crmsync.Store.
func (s *Store) GetSyncError(ctx context.Context, ref crmsync.RecordRef) (crmsync.SyncError, error) {
	op := "get sync error " + ref.Key()
	it, ok, err := s.getItem(ctx, pkSyncErrors, ref.Key())
	if err != nil {
		return crmsync.SyncError{}, s.fail(op, err)
	}
	if !ok {
		return crmsync.SyncError{}, fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
	}
	var out crmsync.SyncError
	if err := decodeData(it, &out); err != nil {
		return crmsync.SyncError{}, s.fail(op, err)
	}
	return out, nil
}

// ListSyncErrors implements crmsync.Store: all errors from the SYNCERR
// partition, one category's from GSI1; both in record-key order.
func (s *Store) ListSyncErrors(ctx context.Context, category crmsync.Category, page crmsync.PageRequest) ([]crmsync.SyncError, string, error) {
	op := fmt.Sprintf("list sync errors %q", category)
	if category != "" && !category.Valid() {
		return nil, "", fmt.Errorf("ddbstore: %s: %w: unknown category", op, crmsync.ErrInvalid)
	}
	in := &dynamodb.QueryInput{TableName: s.table}
	keys := []string{attrPK, attrSK}
	cond := expression.Key(attrPK).Equal(expression.Value(pkSyncErrors))
	if category == "" {
		in.ConsistentRead = aws.Bool(true)
	} else {
		in.IndexName = aws.String(IndexGSI1)
		keys = append(keys, attrGSI1PK, attrGSI1SK)
		cond = expression.Key(attrGSI1PK).Equal(expression.Value(categoryPK(category)))
	}
	expr, err := build(expression.NewBuilder().WithKeyCondition(cond))
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	in.KeyConditionExpression = expr.KeyCondition()
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = expr.Names(), expr.Values()
	return s.syncErrorPage(ctx, op, in, page, keys)
}

// syncErrorPage runs one page of a sync-error query and decodes it; keys
// are the key attributes of the table or index queried (for the token).
func (s *Store) syncErrorPage(ctx context.Context, op string, in *dynamodb.QueryInput, page crmsync.PageRequest, keys []string) ([]crmsync.SyncError, string, error) {
	items, next, err := s.queryPage(ctx, in, page, keys)
	if errors.Is(err, crmsync.ErrInvalid) {
		return nil, "", fmt.Errorf("ddbstore: %s: %w", op, err)
	}
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	out := make([]crmsync.SyncError, len(items))
	for i, it := range items {
		if err := decodeData(it, &out[i]); err != nil {
			return nil, "", s.fail(op, err)
		}
	}
	return out, next, nil
}

// CountSyncErrors implements crmsync.Store with one paged Query Select
// COUNT per category on GSI1.
func (s *Store) CountSyncErrors(ctx context.Context) (map[crmsync.Category]int, error) {
	const op = "count sync errors"
	out := map[crmsync.Category]int{}
	for _, c := range crmsync.Categories {
		expr, err := build(expression.NewBuilder().WithKeyCondition(
			expression.Key(attrGSI1PK).Equal(expression.Value(categoryPK(c)))))
		if err != nil {
			return nil, s.fail(op, err)
		}
		in := &dynamodb.QueryInput{TableName: s.table, IndexName: aws.String(IndexGSI1),
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
			ExpressionAttributeValues: expr.Values(), Select: types.SelectCount}
		n := 0
		for {
			res, err := s.client.Query(ctx, in)
			if err != nil {
				return nil, s.fail(op, err)
			}
			n += int(res.Count)
			if res.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
		if n > 0 {
			out[c] = n
		}
	}
	return out, nil
}

// ClearSyncError implements crmsync.Store.
func (s *Store) ClearSyncError(ctx context.Context, ref crmsync.RecordRef) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: key(pkSyncErrors, ref.Key())})
	if err != nil {
		return s.fail("clear sync error "+ref.Key(), err)
	}
	return nil
}

func usagePK(side crmsync.Side) string { return "USAGE#" + string(side) }

// AddAPIUsage implements crmsync.Store: an atomic ADD on the item of the
// bucket at falls into. The bucket expires a day after it stops counting.
func (s *Store) AddAPIUsage(ctx context.Context, side crmsync.Side, at time.Time, n int) error {
	op := "add api usage " + string(side)
	if !side.Valid() || n < 0 {
		return fmt.Errorf("ddbstore: %s: %w: side %q, n %d", op, crmsync.ErrInvalid, side, n)
	}
	if n == 0 {
		return nil
	}
	bucket := at.Truncate(crmsync.UsageBucket)
	ttl := bucket.Add(crmsync.UsageBucket + 2*crmsync.UsageWindow).Unix()
	expr, err := build(expression.NewBuilder().WithUpdate(
		expression.Add(expression.Name(attrCalls), expression.Value(n)).
			Set(expression.Name(attrTTL), expression.Value(ttl))))
	if err != nil {
		return s.fail(op, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table,
		Key: key(usagePK(side), keyTimeOf(bucket)), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

// APIUsage implements crmsync.Store: the sum of the buckets that start
// between one bucket before the window and now. A bucket counts until it
// ends more than UsageWindow before now.
func (s *Store) APIUsage(ctx context.Context, side crmsync.Side, now time.Time) (int64, error) {
	op := "api usage " + string(side)
	from := now.Add(-crmsync.UsageWindow - crmsync.UsageBucket)
	expr, err := build(expression.NewBuilder().
		WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(usagePK(side))).
			And(expression.Key(attrSK).Between(expression.Value(keyTimeOf(from)), expression.Value(keyTimeOf(now))))).
		WithProjection(expression.NamesList(expression.Name(attrCalls))))
	if err != nil {
		return 0, s.fail(op, err)
	}
	in := &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	var sum int64
	for {
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return 0, s.fail(op, err)
		}
		for _, av := range res.Items {
			it, err := unmarshal(av)
			if err != nil {
				return 0, s.fail(op, err)
			}
			sum += it.Calls
		}
		if res.LastEvaluatedKey == nil {
			return sum, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func ledgerPK(linkID string) string { return "LEDGER#" + linkID }

// AppendLedger implements crmsync.Store. The sort key is the entry's time
// and id, so a link's entries list newest first; they expire the store's
// retention after they are appended (not after e.At, which may be older).
func (s *Store) AppendLedger(ctx context.Context, e crmsync.LedgerEntry) error {
	if e.LinkID == "" {
		return fmt.Errorf("ddbstore: append ledger: %w: empty link id", crmsync.ErrInvalid)
	}
	if e.ID == "" {
		e.ID = newID()
	}
	op := "append ledger " + e.LinkID
	data, err := encodeData(e)
	if err == nil {
		_, err = s.putItem(ctx, item{PK: ledgerPK(e.LinkID), SK: keyTimeOf(e.At) + "#" + e.ID,
			Data: data, TTL: expiry(s.now(), s.retention)}, nil)
	}
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

// ListLedger implements crmsync.Store: a descending query of the link's
// partition, without entries whose ttl has passed.
func (s *Store) ListLedger(ctx context.Context, linkID string, page crmsync.PageRequest) ([]crmsync.LedgerEntry, string, error) {
	op := "list ledger " + linkID
	expr, err := build(expression.NewBuilder().
		WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(ledgerPK(linkID)))).
		WithFilter(expression.Name(attrTTL).GreaterThan(expression.Value(s.now().Unix()))))
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		ScanIndexForward: aws.Bool(false), KeyConditionExpression: expr.KeyCondition(),
		FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()}, page, []string{attrPK, attrSK})
	if errors.Is(err, crmsync.ErrInvalid) {
		return nil, "", fmt.Errorf("ddbstore: %s: %w", op, err)
	}
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	out := make([]crmsync.LedgerEntry, len(items))
	for i, it := range items {
		if err := decodeData(it, &out[i]); err != nil {
			return nil, "", s.fail(op, err)
		}
	}
	return out, next, nil
}
