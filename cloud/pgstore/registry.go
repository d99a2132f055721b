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

// CreateReturn implements cloud.Store: the return, its parcel and its
// "created" entry in one transaction. The parcel's primary key makes the
// tracking number unique across instances.
func (s *Store) CreateReturn(ctx context.Context, r cloud.Return) error {
	if r.ID == "" || !cloud.ValidTracking(r.Tracking) || !cloud.ValidMerchantID(r.Merchant) {
		return edge.Errorf(edge.EINVALID, "A return needs an id, a tracking number and a merchant.")
	}
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p := cloud.CreatedParcel(r)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO returns (id, merchant, body, created_at) VALUES ($1, $2, $3, $4)`, text(r.ID), r.Merchant, string(body), r.CreatedAt.UTC()); isUnique(err) {
			return edge.Errorf(edge.ECONFLICT, "Return %q exists.", r.ID)
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO parcels (tracking, merchant, ra_id, created_at, status, since) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, text(p.Tracking), p.Merchant, text(p.RAID), p.CreatedAt, string(p.Status), p.Since)
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return cloud.ErrTrackingTaken(r.Tracking)
		}
		e := cloud.CreatedEntry(r)
		if _, err = tx.Exec(ctx, insertEntry, entryArgs(r.Tracking, e)...); err != nil {
			return err
		}
		if s.insight {
			if err := insertReturnFacts(ctx, tx, r); err != nil {
				return err // returns insight (issue 15)
			}
		}
		// A return created is no step of its parcel (its facts are made
		// here): its row carries none for the fold to read.
		return publish(ctx, tx, []outRow{entryOut(p, e)}, false)
	})
	if err != nil {
		if _, coded := err.(*edge.Error); coded {
			return err
		}
		return fmt.Errorf("pgstore: create return: %w", err)
	}
	return nil
}

// FindReturn implements cloud.Store.
func (s *Store) FindReturn(ctx context.Context, scope cloud.Scope, id string) (cloud.Return, error) {
	var r cloud.Return
	var body string
	err := s.pool.QueryRow(ctx, `SELECT body FROM returns WHERE id = $1 AND ($2 = '' OR merchant = $2)`, text(id), scopeMerchant(scope)).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, cloud.ErrNotFound("return", id)
	} else if err != nil {
		return r, fmt.Errorf("pgstore: find return: %w", err)
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return r, fmt.Errorf("pgstore: find return: %w", err)
	}
	return r, nil
}

// CreateTerminal implements cloud.Store.
func (s *Store) CreateTerminal(ctx context.Context, t cloud.Terminal) error {
	if t.ID == "" {
		return edge.Errorf(edge.EINVALID, "A terminal needs an id.")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if replaced, err := reenrol(ctx, tx, t); err != nil || replaced {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO terminals (id, name, receipt_public_key, password_hash, enrolled_at, status, online, last_seen)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			text(t.ID), text(t.Name), text(t.ReceiptPublicKey), t.PasswordHash, t.EnrolledAt.UTC(),
			nullJSON(t.Status), t.Online, nullTime(t.LastSeen))
		return err
	})
	if edge.ErrorCode(err) == edge.ECONFLICT {
		return err
	} else if isUnique(err) {
		return edge.Errorf(edge.ECONFLICT, "Terminal %q is already enrolled.", t.ID)
	} else if err != nil {
		return fmt.Errorf("pgstore: create terminal: %w", err)
	}
	return nil
}

const selectTerminal = `
SELECT t.id, t.name, t.receipt_public_key, t.password_hash, t.enrolled_at, t.status::text,
       t.online, t.last_seen, coalesce(w.acked_seq, 0),
       t.decommissioned_at, t.decommission_reason, ` + selectPastKeys + `
FROM terminals t LEFT JOIN watermarks w ON w.terminal = t.id`

func scanTerminal(row pgx.Row) (cloud.Terminal, error) {
	var t cloud.Terminal
	var status *string
	var lastSeen *time.Time
	var acked int64
	var decommissioned *time.Time
	var pastKeys *string
	err := row.Scan(&t.ID, &t.Name, &t.ReceiptPublicKey, &t.PasswordHash, &t.EnrolledAt, &status, &t.Online, &lastSeen, &acked,
		&decommissioned, &t.DecommissionReason, &pastKeys)
	if err != nil {
		return t, err
	}
	if decommissioned != nil {
		t.DecommissionedAt = decommissioned.UTC()
	}
	if t.PastReceiptKeys, err = decodePastKeys(pastKeys); err != nil {
		return t, err
	}
	t.EnrolledAt = t.EnrolledAt.UTC()
	if status != nil {
		t.Status = json.RawMessage(*status)
	}
	if lastSeen != nil {
		t.LastSeen = lastSeen.UTC()
	}
	t.AckedSeq = uint64(acked)
	return t, nil
}

// FindTerminal implements cloud.Store.
func (s *Store) FindTerminal(ctx context.Context, id string) (cloud.Terminal, error) {
	t, err := scanTerminal(s.pool.QueryRow(ctx, selectTerminal+` WHERE t.id = $1`, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, cloud.ErrNotFound("terminal", id)
	} else if err != nil {
		return t, fmt.Errorf("pgstore: find terminal: %w", err)
	}
	return t, nil
}

// Terminals implements cloud.Store.
func (s *Store) Terminals(ctx context.Context) ([]cloud.Terminal, error) {
	rows, err := s.pool.Query(ctx, selectTerminal+` ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: terminals: %w", err)
	}
	defer rows.Close()
	out := []cloud.Terminal{}
	for rows.Next() {
		t, err := scanTerminal(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: terminals: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: terminals: %w", err)
	}
	return out, nil
}

// UpdateTerminalStatus implements cloud.Store. last_seen only moves
// forward; a nil status keeps the last one.
func (s *Store) UpdateTerminalStatus(ctx context.Context, id string, u cloud.StatusUpdate) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE terminals SET online = $2,
		       status = coalesce($3::json, status),
		       last_seen = greatest(last_seen, $4)
		WHERE id = $1`, text(id), u.Online, nullJSON(u.Status), nullTime(u.SeenAt))
	if err != nil {
		return fmt.Errorf("pgstore: update terminal status: %w", err)
	} else if tag.RowsAffected() == 0 {
		return cloud.ErrNotFound("terminal", id)
	}
	return nil
}

// Revoke implements cloud.Store: the return's merchant is checked in the
// insert itself.
func (s *Store) Revoke(ctx context.Context, scope cloud.Scope, raID string) error {
	if raID == "" {
		return edge.Errorf(edge.EINVALID, "A revocation needs an RA id.")
	}
	var found bool
	err := s.pool.QueryRow(ctx, `
		WITH r AS (SELECT id FROM returns WHERE id = $1 AND ($2 = '' OR merchant = $2)),
		     ins AS (INSERT INTO revocations (ra_id) SELECT id FROM r ON CONFLICT DO NOTHING)
		SELECT EXISTS (SELECT 1 FROM r)`, text(raID), scopeMerchant(scope)).Scan(&found)
	if err != nil {
		return fmt.Errorf("pgstore: revoke: %w", err)
	} else if !found {
		return cloud.ErrNotFound("return", raID)
	}
	return nil
}

// Revocations implements cloud.Store.
func (s *Store) Revocations(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT ra_id FROM revocations ORDER BY ra_id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: revocations: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: revocations: %w", err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// PutAPIKey implements cloud.Store.
func (s *Store) PutAPIKey(ctx context.Context, k cloud.APIKey) error {
	if err := k.Check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO api_keys (hash, role, name, merchant) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO UPDATE SET role = excluded.role, name = excluded.name, merchant = excluded.merchant`,
		k.Hash, string(k.Role), text(k.Name), k.Merchant)
	if err != nil {
		return fmt.Errorf("pgstore: put api key: %w", err)
	}
	return nil
}

// FindAPIKey implements cloud.Store.
func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (cloud.APIKey, error) {
	k := cloud.APIKey{Hash: hash}
	var role string
	err := s.pool.QueryRow(ctx, `SELECT role, name, merchant FROM api_keys WHERE hash = $1`, hash).Scan(&role, &k.Name, &k.Merchant)
	if errors.Is(err, pgx.ErrNoRows) {
		return cloud.APIKey{}, edge.Errorf(edge.ENOTFOUND, "No such API key.")
	} else if err != nil {
		return cloud.APIKey{}, fmt.Errorf("pgstore: find api key: %w", err)
	}
	k.Role = cloud.Role(role)
	return k, nil
}

// CountAPIKeys implements cloud.Store.
func (s *Store) CountAPIKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: count api keys: %w", err)
	}
	return n, nil
}

// APIKeys implements cloud.Store.
func (s *Store) APIKeys(ctx context.Context) ([]cloud.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT hash, role, name, merchant FROM api_keys ORDER BY hash`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: api keys: %w", err)
	}
	defer rows.Close()
	out := []cloud.APIKey{}
	for rows.Next() {
		var k cloud.APIKey
		var role string
		if err := rows.Scan(&k.Hash, &role, &k.Name, &k.Merchant); err != nil {
			return nil, fmt.Errorf("pgstore: api keys: %w", err)
		}
		k.Role = cloud.Role(role)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: api keys: %w", err)
	}
	return out, nil
}

// DeleteAPIKey implements cloud.Store.
func (s *Store) DeleteAPIKey(ctx context.Context, hash []byte) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE hash = $1`, hash)
	if err != nil {
		return fmt.Errorf("pgstore: delete api key: %w", err)
	} else if tag.RowsAffected() == 0 {
		return edge.Errorf(edge.ENOTFOUND, "No such API key.")
	}
	return nil
}

func nullJSON(b json.RawMessage) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// SeqFloor implements cloud.Store.
func (s *Store) SeqFloor(ctx context.Context, id string) (uint64, error) {
	var floor int64
	err := s.pool.QueryRow(ctx, `
		SELECT greatest(
			coalesce((SELECT acked_seq FROM watermarks WHERE terminal = $1), 0),
			coalesce((SELECT max(seq) FROM events WHERE terminal = $1), 0),
			coalesce((SELECT max(seq) FROM alias_seqs WHERE terminal = $1), 0))`, text(id)).Scan(&floor)
	if err != nil {
		return 0, fmt.Errorf("pgstore: seq floor: %w", err)
	}
	return uint64(floor), nil
}
