package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// h/{id} -> the subscription with its secrets (cloud.MarshalWebhook).

func webhookKey(id string) []byte { return []byte("h/" + id) }

func setWebhook(txn *badger.Txn, w cloud.Webhook) error {
	b, err := cloud.MarshalWebhook(w)
	if err != nil {
		return err
	}
	return txn.Set(webhookKey(w.ID), b)
}

// CreateWebhook implements cloud.Store.
func (s *Store) CreateWebhook(ctx context.Context, w cloud.Webhook) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		if ok, err := exists(txn, webhookKey(w.ID)); err != nil {
			return err
		} else if ok {
			return edge.Errorf(edge.ECONFLICT, "Webhook %q exists.", w.ID)
		}
		return setWebhook(txn, w)
	})
	return codedOr("create webhook", err)
}

// Webhooks implements cloud.Store; there are few (cloud.MaxWebhooks a
// merchant), so a merchant's are filtered from all.
func (s *Store) Webhooks(ctx context.Context, scope cloud.Scope) ([]cloud.Webhook, error) {
	out := []cloud.Webhook{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("h/"), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var w cloud.Webhook
			err := it.Item().Value(func(b []byte) (err error) {
				w, err = cloud.UnmarshalWebhook(b)
				return err
			})
			if err != nil {
				return err
			}
			if scope.Allows(w.Merchant) {
				out = append(out, w)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: webhooks: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// scopedWebhook reads subscription id in scope, or returns ENOTFOUND.
func scopedWebhook(txn *badger.Txn, scope cloud.Scope, id string) (cloud.Webhook, error) {
	item, err := txn.Get(webhookKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return cloud.Webhook{}, cloud.ErrNotFound("webhook", id)
	} else if err != nil {
		return cloud.Webhook{}, err
	}
	var w cloud.Webhook
	err = item.Value(func(b []byte) (err error) {
		w, err = cloud.UnmarshalWebhook(b)
		return err
	})
	if err != nil {
		return w, err
	} else if !scope.Allows(w.Merchant) {
		return cloud.Webhook{}, cloud.ErrNotFound("webhook", id)
	}
	return w, nil
}

// UpdateWebhook implements cloud.Store.
func (s *Store) UpdateWebhook(ctx context.Context, scope cloud.Scope, id string, fn func(*cloud.Webhook) error) (cloud.Webhook, error) {
	var w cloud.Webhook
	err := s.update(ctx, func(txn *badger.Txn) error {
		orig, err := scopedWebhook(txn, scope, id)
		if err != nil {
			return err
		}
		before, err := cloud.MarshalWebhook(orig)
		if err != nil {
			return err
		}
		w = orig
		if err := fn(&w); err != nil {
			return err
		}
		w.ID, w.Merchant = orig.ID, orig.Merchant // not fn's to change
		after, err := cloud.MarshalWebhook(w)
		if err != nil || bytes.Equal(before, after) {
			return err // nothing changed: no write (a dispatcher's idle step)
		}
		return txn.Set(webhookKey(w.ID), after)
	})
	if err != nil {
		return cloud.Webhook{}, codedOr("update webhook", err)
	}
	return w, nil
}

// DeleteWebhook implements cloud.Store.
func (s *Store) DeleteWebhook(ctx context.Context, scope cloud.Scope, id string) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		if _, err := scopedWebhook(txn, scope, id); err != nil {
			return err
		}
		return txn.Delete(webhookKey(id))
	})
	return codedOr("delete webhook", err)
}

// codedOr returns err as it is when it is a coded error, else wrapped with
// the store's prefix and what failed.
func codedOr(what string, err error) error {
	if err == nil {
		return nil
	}
	if _, coded := err.(*edge.Error); coded {
		return err
	}
	return fmt.Errorf("badgerstore: %s: %w", what, err)
}
