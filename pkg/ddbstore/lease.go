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

// ListSyncErrorsDue implements crmsync.Store: a consistent query of the
// SYNCERR partition in record-key order, filtered on due <= now (see the
// package doc for why this is not an index).
func (s *Store) ListSyncErrorsDue(ctx context.Context, now time.Time, page crmsync.PageRequest) ([]crmsync.SyncError, string, error) {
	const op = "list sync errors due"
	expr, err := build(expression.NewBuilder().
		WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pkSyncErrors))).
		WithFilter(expression.Name(attrDue).LessThanEqual(expression.Value(keyTimeOf(now)))))
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	return s.syncErrorPage(ctx, op, &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()},
		page, []string{attrPK, attrSK})
}

func leasePK(name string) string { return "LEASE#" + name }

const skLease = "LEASE"

func leaseOf(name string, av map[string]types.AttributeValue) (crmsync.Lease, error) {
	it, err := unmarshal(av)
	if err != nil {
		return crmsync.Lease{}, err
	}
	l := crmsync.Lease{Name: name, Owner: it.Owner, Checkpoint: it.Checkpoint}
	if it.Until != 0 {
		l.Until = time.Unix(0, it.Until).UTC()
	}
	return l, nil
}

// AcquireLease implements crmsync.Store with one conditional UpdateItem:
// it succeeds when the lease item is absent, released, expired or owner's.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (crmsync.Lease, bool, error) {
	op := "acquire lease " + name
	if name == "" || owner == "" || ttl <= 0 {
		return crmsync.Lease{}, false, fmt.Errorf("ddbstore: %s: %w: name %q, owner %q, ttl %v", op, crmsync.ErrInvalid, name, owner, ttl)
	}
	now := s.now()
	cond := expression.AttributeNotExists(expression.Name(attrPK)).Or(
		expression.AttributeNotExists(expression.Name(attrOwner)),
		expression.Name(attrOwner).Equal(expression.Value(owner)),
		expression.Name(attrUntil).LessThanEqual(expression.Value(now.UnixNano())))
	upd := expression.Set(expression.Name(attrOwner), expression.Value(owner)).
		Set(expression.Name(attrUntil), expression.Value(now.Add(ttl).UnixNano()))
	expr, err := build(expression.NewBuilder().WithCondition(cond).WithUpdate(upd))
	if err != nil {
		return crmsync.Lease{}, false, s.fail(op, err)
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table,
		Key: key(leasePK(name), skLease), ConditionExpression: expr.Condition(),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ReturnValues: types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		l, err := leaseOf(name, ccf.Item)
		if err != nil {
			return crmsync.Lease{}, false, s.fail(op, err)
		}
		return l, false, nil
	}
	if err != nil {
		return crmsync.Lease{}, false, s.fail(op, err)
	}
	l, err := leaseOf(name, out.Attributes)
	if err != nil {
		return crmsync.Lease{}, false, s.fail(op, err)
	}
	return l, true, nil
}

// ReleaseLease implements crmsync.Store: an UpdateItem conditional on the
// owner; a failed condition means someone else holds it, which is no error.
func (s *Store) ReleaseLease(ctx context.Context, name, owner, checkpoint string) error {
	op := "release lease " + name
	if owner == "" {
		return nil
	}
	upd := expression.Remove(expression.Name(attrOwner)).
		Set(expression.Name(attrUntil), expression.Value(s.now().UnixNano()))
	if checkpoint == "" {
		upd = upd.Remove(expression.Name(attrCheck))
	} else {
		upd = upd.Set(expression.Name(attrCheck), expression.Value(checkpoint))
	}
	expr, err := build(expression.NewBuilder().
		WithCondition(expression.Name(attrOwner).Equal(expression.Value(owner))).WithUpdate(upd))
	if err != nil {
		return s.fail(op, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table,
		Key: key(leasePK(name), skLease), ConditionExpression: expr.Condition(),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}
