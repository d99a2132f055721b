package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// CreateMerchant implements cloud.Store.
func (s *Store) CreateMerchant(ctx context.Context, m cloud.Merchant) error {
	if !cloud.ValidMerchantID(m.ID) {
		return edge.Errorf(edge.EINVALID, "A merchant id is 2 to 64 lower-case letters, digits and dashes.")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO merchants (id, name, created_at) VALUES ($1, $2, $3)`, m.ID, text(m.Name), m.CreatedAt.UTC())
	if isUnique(err) {
		return edge.Errorf(edge.ECONFLICT, "Merchant %q exists.", m.ID)
	} else if err != nil {
		return fmt.Errorf("pgstore: create merchant: %w", err)
	}
	return nil
}

func scanMerchant(row pgx.CollectableRow) (cloud.Merchant, error) {
	var m cloud.Merchant
	err := row.Scan(&m.ID, &m.Name, &m.CreatedAt)
	m.CreatedAt = m.CreatedAt.UTC()
	return m, err
}

// FindMerchant implements cloud.Store.
func (s *Store) FindMerchant(ctx context.Context, scope cloud.Scope, id string) (cloud.Merchant, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM merchants WHERE id = $1 AND ($2 = '' OR id = $2)`, text(id), scopeMerchant(scope))
	if err != nil {
		return cloud.Merchant{}, fmt.Errorf("pgstore: find merchant: %w", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMerchant)
	if errors.Is(err, pgx.ErrNoRows) {
		return cloud.Merchant{}, cloud.ErrNotFound("merchant", id)
	} else if err != nil {
		return cloud.Merchant{}, fmt.Errorf("pgstore: find merchant: %w", err)
	}
	return m, nil
}

// Merchants implements cloud.Store.
func (s *Store) Merchants(ctx context.Context, scope cloud.Scope) ([]cloud.Merchant, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM merchants WHERE $1 = '' OR id = $1 ORDER BY id COLLATE "C"`, scopeMerchant(scope))
	if err != nil {
		return nil, fmt.Errorf("pgstore: merchants: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanMerchant)
	if err != nil {
		return nil, fmt.Errorf("pgstore: merchants: %w", err)
	}
	if out == nil {
		out = []cloud.Merchant{}
	}
	return out, nil
}

// CreateSigningKey implements cloud.Store.
func (s *Store) CreateSigningKey(ctx context.Context, k cloud.SigningKey) error {
	if k.ID == "" || !cloud.ValidMerchantID(k.Merchant) || k.Public == "" {
		return edge.Errorf(edge.EINVALID, "A signing key needs an id, a merchant and a public key.")
	}
	var private *string
	if k.Private != "" {
		private = &k.Private
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO signing_keys (kid, merchant, iss, public_key, private, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		text(k.ID), k.Merchant, text(k.Issuer), text(k.Public), private, k.CreatedAt.UTC(), nullTime(k.RetiredAt))
	if isUnique(err) {
		return edge.Errorf(edge.ECONFLICT, "A signing key %q exists.", k.ID)
	} else if err != nil {
		return fmt.Errorf("pgstore: create signing key: %w", err)
	}
	return nil
}

// RetireSigningKey implements cloud.Store.
func (s *Store) RetireSigningKey(ctx context.Context, merchant, kid string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE signing_keys SET retired_at = coalesce(retired_at, $3) WHERE kid = $1 AND merchant = $2`,
		text(kid), merchant, at.UTC())
	if err != nil {
		return fmt.Errorf("pgstore: retire signing key: %w", err)
	} else if tag.RowsAffected() == 0 {
		return cloud.ErrNotFound("signing key", kid)
	}
	return nil
}

// ResealSigningKey implements cloud.Store.
func (s *Store) ResealSigningKey(ctx context.Context, kid, was, private string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE signing_keys SET private = $3 WHERE kid = $1 AND private = $2`,
		text(kid), text(was), text(private))
	if err != nil {
		return fmt.Errorf("pgstore: reseal signing key: %w", err)
	} else if tag.RowsAffected() == 0 {
		return cloud.ErrNotFound("signing key", kid)
	}
	return nil
}

// SigningKeys implements cloud.Store.
func (s *Store) SigningKeys(ctx context.Context, scope cloud.Scope) ([]cloud.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT kid, merchant, iss, public_key, coalesce(private, ''), created_at, retired_at
		FROM signing_keys WHERE $1 = '' OR merchant = $1 ORDER BY created_at, kid`, scopeMerchant(scope))
	if err != nil {
		return nil, fmt.Errorf("pgstore: signing keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (cloud.SigningKey, error) {
		var k cloud.SigningKey
		var retired *time.Time
		err := row.Scan(&k.ID, &k.Merchant, &k.Issuer, &k.Public, &k.Private, &k.CreatedAt, &retired)
		k.CreatedAt = k.CreatedAt.UTC()
		if retired != nil {
			k.RetiredAt = retired.UTC()
		}
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: signing keys: %w", err)
	}
	if out == nil {
		out = []cloud.SigningKey{}
	}
	return out, nil
}

// Secret implements cloud.Store: the first instance to ask creates it,
// the others read it.
func (s *Store) Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, gen()); err != nil {
		return nil, fmt.Errorf("pgstore: secret: %w", err)
	}
	var v []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("pgstore: secret: %w", err)
	}
	return v, nil
}

// AdoptLegacy implements cloud.Store. The parcels of legacy returns were
// made by migration 0002; here they, the returns and the keys get their
// merchant.
func (s *Store) AdoptLegacy(ctx context.Context, merchant string) error {
	if !cloud.ValidMerchantID(merchant) {
		return edge.Errorf(edge.EINVALID, "Legacy data needs a merchant to belong to.")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`UPDATE returns SET merchant = $1 WHERE merchant = ''`,
			`UPDATE parcels SET merchant = $1 WHERE merchant = '' AND ra_id <> ''`,
			`UPDATE report_facts SET merchant = $1 WHERE merchant = ''`,
			`UPDATE api_keys SET merchant = $1 WHERE merchant = '' AND role <> 'operator'`,
		} {
			if _, err := tx.Exec(ctx, q, merchant); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: adopt legacy data: %w", err)
	}
	return nil
}
