package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// selectPastKeys is the column of a terminal's past receipt keys, a JSON
// array newest first (NULL when none), in selectTerminal.
const selectPastKeys = `(
	SELECT json_agg(json_build_object('public_key', k.public_key, 'from', k.enrolled_at, 'until', k.decommissioned_at)
	                ORDER BY k.enrolled_at DESC)::text
	FROM terminal_receipt_keys k WHERE k.terminal = t.id)`

func decodePastKeys(b *string) ([]cloud.ReceiptKey, error) {
	if b == nil {
		return nil, nil
	}
	var keys []cloud.ReceiptKey
	if err := json.Unmarshal([]byte(*b), &keys); err != nil {
		return nil, fmt.Errorf("past receipt keys: %w", err)
	}
	for i := range keys {
		keys[i].From, keys[i].Until = keys[i].From.UTC(), keys[i].Until.UTC()
	}
	return keys, nil
}

// reenrol replaces the record of t's id with t when that terminal is
// decommissioned, keeping its receipt key with its period; replaced is
// false when there is no such terminal. A terminal in service is
// ECONFLICT. The row is locked, so that two enrolments at once take turns.
func reenrol(ctx context.Context, tx pgx.Tx, t cloud.Terminal) (replaced bool, err error) {
	var key string
	var enrolled time.Time
	var decommissioned *time.Time
	err = tx.QueryRow(ctx, `SELECT receipt_public_key, enrolled_at, decommissioned_at FROM terminals WHERE id = $1 FOR UPDATE`,
		text(t.ID)).Scan(&key, &enrolled, &decommissioned)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, err
	} else if decommissioned == nil {
		return false, edge.Errorf(edge.ECONFLICT, "Terminal %q is already enrolled.", t.ID)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO terminal_receipt_keys (terminal, public_key, enrolled_at, decommissioned_at) VALUES ($1, $2, $3, $4)`,
		text(t.ID), key, enrolled, *decommissioned); err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `
		UPDATE terminals SET name = $2, receipt_public_key = $3, password_hash = $4, enrolled_at = $5,
		       status = $6, online = $7, last_seen = $8, decommissioned_at = NULL, decommission_reason = ''
		WHERE id = $1`,
		text(t.ID), text(t.Name), text(t.ReceiptPublicKey), t.PasswordHash, t.EnrolledAt.UTC(),
		nullJSON(t.Status), t.Online, nullTime(t.LastSeen))
	return err == nil, err
}

// DecommissionTerminal implements cloud.Store.
func (s *Store) DecommissionTerminal(ctx context.Context, id string, at time.Time, reason string) (cloud.Terminal, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE terminals SET decommissioned_at = $2, decommission_reason = $3, password_hash = NULL, online = false
		WHERE id = $1 AND decommissioned_at IS NULL`, text(id), at.UTC(), text(reason))
	if err != nil {
		return cloud.Terminal{}, fmt.Errorf("pgstore: decommission terminal: %w", err)
	}
	t, err := s.FindTerminal(ctx, id)
	if err != nil {
		return cloud.Terminal{}, err
	}
	if tag.RowsAffected() == 0 {
		return cloud.Terminal{}, edge.Errorf(edge.ECONFLICT, "Terminal %q was decommissioned on %s.", id, t.DecommissionedAt.Format(time.RFC3339))
	}
	return t, nil
}
