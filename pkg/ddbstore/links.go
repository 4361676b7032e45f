package ddbstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/crmsync/crmsync/pkg/crmsync"
)

// newID returns a random 128-bit id in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// role says what a failed condition on one item of a link transaction
// means.
type role struct {
	kind roleKind
	ref  crmsync.RecordRef
}

type roleKind int

const (
	roleNewLink    roleKind = iota // attribute_not_exists: the id is in use
	roleLinkAt                     // version = :v: changed or gone
	roleClaimRef                   // attribute_not_exists: linked elsewhere
	roleReleaseRef                 // link_id = :id: the ref moved meanwhile
)

// linkTx collects the items of one link transaction and their roles.
type linkTx struct {
	items []types.TransactWriteItem
	roles []role
}

func (t *linkTx) put(av map[string]types.AttributeValue, cond expression.ConditionBuilder, r role) error {
	expr, err := condition(cond)
	if err != nil {
		return err
	}
	t.items = append(t.items, types.TransactWriteItem{Put: &types.Put{
		Item: av, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
	t.roles = append(t.roles, r)
	return nil
}

func (t *linkTx) delete(k map[string]types.AttributeValue, cond expression.ConditionBuilder, r role) error {
	expr, err := condition(cond)
	if err != nil {
		return err
	}
	t.items = append(t.items, types.TransactWriteItem{Delete: &types.Delete{
		Key: k, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
	t.roles = append(t.roles, r)
	return nil
}

func (t *linkTx) claim(ref crmsync.RecordRef, id string) error {
	av, err := marshal(item{PK: refPK(ref), SK: skRef, LinkID: id})
	if err != nil {
		return err
	}
	return t.put(av, notExists, role{kind: roleClaimRef, ref: ref})
}

func (t *linkTx) release(ref crmsync.RecordRef, id string) error {
	return t.delete(key(refPK(ref), skRef), expression.Name(attrLinkID).Equal(expression.Value(id)),
		role{kind: roleReleaseRef, ref: ref})
}

// run writes the transaction, retrying while it is cancelled by nothing but
// transaction conflicts. It returns the SDK's error unchanged.
func (s *Store) run(ctx context.Context, t *linkTx) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: t.items}
	for i := range in.TransactItems {
		if p := in.TransactItems[i].Put; p != nil {
			p.TableName = s.table
		}
		if d := in.TransactItems[i].Delete; d != nil {
			d.TableName = s.table
		}
	}
	for attempt := 0; ; attempt++ {
		_, err := s.client.TransactWriteItems(ctx, in)
		if err == nil || attempt >= s.conflictRetries || !onlyConflicts(err) {
			return err
		}
		if err := sleepBackoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// onlyConflicts reports whether err is a cancellation without a failed
// condition but with a transaction conflict: nothing was decided, and the
// same write may succeed or fail on a condition when retried.
func onlyConflicts(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	conflict := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			return false
		case "TransactionConflict":
			conflict = true
		}
	}
	return conflict
}

// explain maps a cancelled link transaction to the Store's errors by the
// role of each item whose condition failed. A failed version condition
// wins over a ref conflict (the caller must re-read either way, and the
// version says so more precisely); it is ErrNotFound when the link is
// gone. It returns nil when err is not a cancellation with a failed
// condition.
func (s *Store) explain(ctx context.Context, err error, t *linkTx, id string) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != len(t.roles) {
		return nil
	}
	var versionErr, conflictErr error
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		switch ro := t.roles[i]; ro.kind {
		case roleNewLink:
			conflictErr = fmt.Errorf("link id in use: %w", crmsync.ErrConflict)
		case roleClaimRef:
			conflictErr = fmt.Errorf("%s is linked elsewhere: %w", ro.ref, crmsync.ErrConflict)
		case roleReleaseRef:
			versionErr = fmt.Errorf("%s moved meanwhile: %w", ro.ref, crmsync.ErrVersionConflict)
		case roleLinkAt:
			if s.gone(ctx, id, r.Item) {
				return fmt.Errorf("deleted meanwhile: %w", crmsync.ErrNotFound)
			}
			versionErr = fmt.Errorf("link changed meanwhile: %w", crmsync.ErrVersionConflict)
		}
	}
	if versionErr != nil {
		return versionErr
	}
	return conflictErr
}

// gone reports whether link id no longer exists after a failed version
// condition that returned old (nil when the item was absent, or when the
// DynamoDB implementation does not return it: then it looks). A failed
// look counts as "exists", which yields the retryable version conflict.
func (s *Store) gone(ctx context.Context, id string, old map[string]types.AttributeValue) bool {
	if old != nil {
		return false
	}
	_, ok, err := s.getItem(ctx, linkPK(id), skLink)
	return err == nil && !ok
}

// getLink reads a link item; ok is false when it is absent.
func (s *Store) getLink(ctx context.Context, id string) (l crmsync.Link, ok bool, err error) {
	it, ok, err := s.getItem(ctx, linkPK(id), skLink)
	if err != nil || !ok {
		return crmsync.Link{}, false, err
	}
	if err := decodeData(it, &l); err != nil {
		return crmsync.Link{}, false, err
	}
	return l, true, nil
}

func linkItem(l crmsync.Link) (map[string]types.AttributeValue, error) {
	data, err := encodeData(l)
	if err != nil {
		return nil, err
	}
	return marshal(item{PK: linkPK(l.ID), SK: skLink, GSI1PK: "LINKS", GSI1SK: l.ID, Version: l.Version, Data: data})
}

// GetLink implements crmsync.Store: the ref item names the link, and the
// link must still hold the ref. When it does not, a re-point or delete
// came between the two reads, and the ref is read again.
func (s *Store) GetLink(ctx context.Context, ref crmsync.RecordRef) (crmsync.Link, error) {
	op := "get link " + ref.Key()
	for attempt := 0; ; attempt++ {
		it, ok, err := s.getItem(ctx, refPK(ref), skRef)
		if err != nil {
			return crmsync.Link{}, s.fail(op, err)
		}
		if !ok {
			return crmsync.Link{}, fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
		}
		l, ok, err := s.getLink(ctx, it.LinkID)
		if err != nil {
			return crmsync.Link{}, s.fail(op, err)
		}
		if ok && l.Ref(ref.Side) == ref {
			return l, nil
		}
		if attempt == 2 {
			return crmsync.Link{}, fmt.Errorf("ddbstore: %s: link %s no longer holds it: %w", op, it.LinkID, crmsync.ErrNotFound)
		}
	}
}

// GetLinkByID implements crmsync.Store.
func (s *Store) GetLinkByID(ctx context.Context, id string) (crmsync.Link, error) {
	op := "get link " + id
	l, ok, err := s.getLink(ctx, id)
	if err != nil {
		return crmsync.Link{}, s.fail(op, err)
	}
	if !ok {
		return crmsync.Link{}, fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
	}
	return l, nil
}

// CreateLink implements crmsync.Store: one transaction puts the link and
// claims each of its refs.
func (s *Store) CreateLink(ctx context.Context, l crmsync.Link) (crmsync.Link, error) {
	if err := l.Validate(); err != nil {
		return crmsync.Link{}, fmt.Errorf("ddbstore: create link: %w", err)
	}
	if l.ID == "" {
		l.ID = newID()
	}
	l.Version = 1
	op := "create link " + l.ID
	var t linkTx
	av, err := linkItem(l)
	if err == nil {
		err = t.put(av, notExists, role{kind: roleNewLink})
	}
	for _, r := range l.Refs() {
		if err == nil {
			err = t.claim(r, l.ID)
		}
	}
	if err != nil {
		return crmsync.Link{}, s.fail(op, err)
	}
	if err := s.run(ctx, &t); err != nil {
		if e := s.explain(ctx, err, &t, l.ID); e != nil {
			return crmsync.Link{}, fmt.Errorf("ddbstore: %s: %w", op, e)
		}
		return crmsync.Link{}, s.fail(op, err)
	}
	return l, nil
}

// UpdateLink implements crmsync.Store. It reads the link to learn which
// refs change; without ref changes the write is one PutItem conditional on
// the version, otherwise a transaction that also releases the old refs and
// claims the new ones.
func (s *Store) UpdateLink(ctx context.Context, l crmsync.Link) (crmsync.Link, error) {
	op := "update link " + l.ID
	if err := l.Validate(); err != nil {
		return crmsync.Link{}, fmt.Errorf("ddbstore: %s: %w", op, err)
	}
	cur, ok, err := s.getLink(ctx, l.ID)
	if err != nil {
		return crmsync.Link{}, s.fail(op, err)
	}
	if !ok {
		return crmsync.Link{}, fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
	}
	if cur.Version != l.Version {
		return crmsync.Link{}, fmt.Errorf("ddbstore: %s: stored version %d, given %d: %w", op, cur.Version, l.Version, crmsync.ErrVersionConflict)
	}
	next := l
	next.Version++
	av, err := linkItem(next)
	if err != nil {
		return crmsync.Link{}, s.fail(op, err)
	}
	var t linkTx
	if err := t.put(av, versionIs(l.Version), role{kind: roleLinkAt}); err != nil {
		return crmsync.Link{}, s.fail(op, err)
	}
	for _, side := range crmsync.Sides {
		old, ref := cur.Ref(side), l.Ref(side)
		if old == ref {
			continue
		}
		if !old.IsZero() {
			err = t.release(old, l.ID)
		}
		if err == nil && !ref.IsZero() {
			err = t.claim(ref, l.ID)
		}
		if err != nil {
			return crmsync.Link{}, s.fail(op, err)
		}
	}

	if len(t.items) == 1 { // no ref changes
		cond := versionIs(l.Version)
		old, err := s.putAV(ctx, av, &cond)
		if errors.Is(err, errConditionFailed) {
			if s.gone(ctx, l.ID, old) {
				return crmsync.Link{}, fmt.Errorf("ddbstore: %s: deleted meanwhile: %w", op, crmsync.ErrNotFound)
			}
			return crmsync.Link{}, fmt.Errorf("ddbstore: %s: changed meanwhile: %w", op, crmsync.ErrVersionConflict)
		}
		if err != nil {
			return crmsync.Link{}, s.fail(op, err)
		}
		return next, nil
	}
	if err := s.run(ctx, &t); err != nil {
		if e := s.explain(ctx, err, &t, l.ID); e != nil {
			return crmsync.Link{}, fmt.Errorf("ddbstore: %s: %w", op, e)
		}
		return crmsync.Link{}, s.fail(op, err)
	}
	return next, nil
}

// DeleteLink implements crmsync.Store: one transaction deletes the link,
// conditional on its version, and releases its refs.
func (s *Store) DeleteLink(ctx context.Context, id string, version int64) error {
	op := "delete link " + id
	cur, ok, err := s.getLink(ctx, id)
	if err != nil {
		return s.fail(op, err)
	}
	if !ok {
		return fmt.Errorf("ddbstore: %s: %w", op, crmsync.ErrNotFound)
	}
	if cur.Version != version {
		return fmt.Errorf("ddbstore: %s: stored version %d, given %d: %w", op, cur.Version, version, crmsync.ErrVersionConflict)
	}
	var t linkTx
	err = t.delete(key(linkPK(id), skLink), versionIs(version), role{kind: roleLinkAt})
	for _, r := range cur.Refs() {
		if err == nil {
			err = t.release(r, id)
		}
	}
	if err != nil {
		return s.fail(op, err)
	}
	if err := s.run(ctx, &t); err != nil {
		if e := s.explain(ctx, err, &t, id); e != nil {
			return fmt.Errorf("ddbstore: %s: %w", op, e)
		}
		return s.fail(op, err)
	}
	return nil
}

// ListLinks implements crmsync.Store: links in id order, from GSI1.
func (s *Store) ListLinks(ctx context.Context, page crmsync.PageRequest) ([]crmsync.Link, string, error) {
	const op = "list links"
	expr, err := build(expression.NewBuilder().WithKeyCondition(
		expression.Key(attrGSI1PK).Equal(expression.Value("LINKS"))))
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{
		TableName: s.table, IndexName: aws.String(IndexGSI1),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}, page, []string{attrPK, attrSK, attrGSI1PK, attrGSI1SK})
	if errors.Is(err, crmsync.ErrInvalid) {
		return nil, "", fmt.Errorf("ddbstore: %s: %w", op, err)
	}
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	out := make([]crmsync.Link, len(items))
	for i, it := range items {
		if err := decodeData(it, &out[i]); err != nil {
			return nil, "", s.fail(op, err)
		}
	}
	return out, next, nil
}
