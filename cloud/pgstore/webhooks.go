package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func encodeWebhook(w cloud.Webhook) (string, error) {
	b, err := cloud.MarshalWebhook(w)
	return string(b), err
}

func decodeWebhook(body string) (cloud.Webhook, error) { return cloud.UnmarshalWebhook([]byte(body)) }

// CreateWebhook implements cloud.Store.
func (s *Store) CreateWebhook(ctx context.Context, w cloud.Webhook) error {
	body, err := encodeWebhook(w)
	if err != nil {
		return fmt.Errorf("pgstore: create webhook: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO webhooks (id, merchant, created_at, body) VALUES ($1, $2, $3, $4)`,
		text(w.ID), w.Merchant, w.CreatedAt.UTC(), body)
	if isUnique(err) {
		return edge.Errorf(edge.ECONFLICT, "Webhook %q exists.", w.ID)
	} else if err != nil {
		return fmt.Errorf("pgstore: create webhook: %w", err)
	}
	return nil
}

// Webhooks implements cloud.Store.
func (s *Store) Webhooks(ctx context.Context, scope cloud.Scope) ([]cloud.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT body::text FROM webhooks WHERE $1 = '' OR merchant = $1 ORDER BY created_at, id`, scopeMerchant(scope))
	if err != nil {
		return nil, fmt.Errorf("pgstore: webhooks: %w", err)
	}
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: webhooks: %w", err)
	}
	out := make([]cloud.Webhook, 0, len(bodies))
	for _, b := range bodies {
		w, err := decodeWebhook(b)
		if err != nil {
			return nil, fmt.Errorf("pgstore: webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

// UpdateWebhook implements cloud.Store: fn runs first on the row as it
// is, and when it changes nothing (a dispatcher's idle step) that is the
// answer: no row lock, no transaction id, nothing to flush. Otherwise the
// row is locked while fn runs again on it.
func (s *Store) UpdateWebhook(ctx context.Context, scope cloud.Scope, id string, fn func(*cloud.Webhook) error) (cloud.Webhook, error) {
	if w, same, err := s.unchangedWebhook(ctx, scope, id, fn); err != nil || same {
		return w, err
	}
	var w cloud.Webhook
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var body string
		err := tx.QueryRow(ctx, `SELECT body::text FROM webhooks WHERE id = $1 AND ($2 = '' OR merchant = $2) FOR UPDATE`,
			text(id), scopeMerchant(scope)).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return cloud.ErrNotFound("webhook", id)
		} else if err != nil {
			return err
		}
		if w, err = decodeWebhook(body); err != nil {
			return err
		}
		orig := w
		if err := fn(&w); err != nil {
			return err
		}
		w.ID, w.Merchant = orig.ID, orig.Merchant // not fn's to change
		changed, err := encodeWebhook(w)
		if err != nil || changed == body {
			return err // nothing changed: no write (a dispatcher's idle step)
		}
		_, err = tx.Exec(ctx, `UPDATE webhooks SET body = $2 WHERE id = $1`, text(id), changed)
		return err
	})
	if err != nil {
		if _, coded := err.(*edge.Error); coded {
			return cloud.Webhook{}, err
		}
		return cloud.Webhook{}, fmt.Errorf("pgstore: update webhook: %w", err)
	}
	return w, nil
}

// DeleteWebhook implements cloud.Store.
func (s *Store) DeleteWebhook(ctx context.Context, scope cloud.Scope, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1 AND ($2 = '' OR merchant = $2)`, text(id), scopeMerchant(scope))
	if err != nil {
		return fmt.Errorf("pgstore: delete webhook: %w", err)
	} else if tag.RowsAffected() == 0 {
		return cloud.ErrNotFound("webhook", id)
	}
	return nil
}

// unchangedWebhook reads subscription id in scope without a lock and
// reports whether fn leaves it as it is (with fn's error, if any).
func (s *Store) unchangedWebhook(ctx context.Context, scope cloud.Scope, id string, fn func(*cloud.Webhook) error) (cloud.Webhook, bool, error) {
	var body string
	err := s.pool.QueryRow(ctx, `SELECT body::text FROM webhooks WHERE id = $1 AND ($2 = '' OR merchant = $2)`,
		text(id), scopeMerchant(scope)).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return cloud.Webhook{}, false, cloud.ErrNotFound("webhook", id)
	} else if err != nil {
		return cloud.Webhook{}, false, fmt.Errorf("pgstore: update webhook: %w", err)
	}
	w, err := decodeWebhook(body)
	if err != nil {
		return cloud.Webhook{}, false, fmt.Errorf("pgstore: update webhook: %w", err)
	}
	orig := w
	if err := fn(&w); err != nil {
		return cloud.Webhook{}, false, err
	}
	w.ID, w.Merchant = orig.ID, orig.Merchant
	changed, err := encodeWebhook(w)
	if err != nil {
		return cloud.Webhook{}, false, fmt.Errorf("pgstore: update webhook: %w", err)
	}
	return w, changed == body, nil
}
