package badgerstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func merchantKey(id string) []byte    { return []byte("n/" + id) }
func signingKeyKey(kid string) []byte { return []byte("g/" + kid) }
func secretKey(name string) []byte    { return []byte("z/" + name) }

// adoptedKey marks AdoptLegacy done.
var adoptedKey = []byte("_/legacy-adopted")

// CreateMerchant implements cloud.Store.
func (s *Store) CreateMerchant(ctx context.Context, m cloud.Merchant) error {
	if !cloud.ValidMerchantID(m.ID) {
		return edge.Errorf(edge.EINVALID, "A merchant id is 2 to 64 lower-case letters, digits and dashes.")
	}
	return s.insert(ctx, "create merchant", merchantKey(m.ID), m, edge.Errorf(edge.ECONFLICT, "Merchant %q exists.", m.ID))
}

// insert stores v under key unless the key exists, which answers taken.
func (s *Store) insert(ctx context.Context, op string, key []byte, v any, taken error) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		if ok, err := exists(txn, key); err != nil {
			return err
		} else if ok {
			return taken
		}
		return setJSON(txn, key, v)
	})
	if err != nil && err != taken {
		return fmt.Errorf("badgerstore: %s: %w", op, err)
	}
	return err
}

// FindMerchant implements cloud.Store.
func (s *Store) FindMerchant(ctx context.Context, scope cloud.Scope, id string) (cloud.Merchant, error) {
	var m cloud.Merchant
	var found bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		found, err = getJSON(txn, merchantKey(id), &m)
		return err
	})
	if err != nil {
		return m, fmt.Errorf("badgerstore: find merchant: %w", err)
	} else if !found || !scope.Allows(m.ID) {
		return cloud.Merchant{}, cloud.ErrNotFound("merchant", id)
	}
	return m, nil
}

// Merchants implements cloud.Store.
func (s *Store) Merchants(ctx context.Context, scope cloud.Scope) ([]cloud.Merchant, error) {
	if !scope.All() {
		m, err := s.FindMerchant(ctx, scope, scope.Merchant)
		if edge.ErrorCode(err) == edge.ENOTFOUND {
			return []cloud.Merchant{}, nil
		} else if err != nil {
			return nil, err
		}
		return []cloud.Merchant{m}, nil
	}
	out := []cloud.Merchant{}
	err := s.each("n/", func(b []byte) error {
		var m cloud.Merchant
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: merchants: %w", err)
	}
	return out, nil
}

// each calls fn with the value of every key under prefix, in key order.
func (s *Store) each(prefix string, fn func([]byte) error) error {
	return s.db.View(func(txn *badger.Txn) error { return s.eachIn(txn, prefix, fn) })
}

// CreateSigningKey implements cloud.Store.
func (s *Store) CreateSigningKey(ctx context.Context, k cloud.SigningKey) error {
	if k.ID == "" || !cloud.ValidMerchantID(k.Merchant) || k.Public == "" {
		return edge.Errorf(edge.EINVALID, "A signing key needs an id, a merchant and a public key.")
	}
	return s.insert(ctx, "create signing key", signingKeyKey(k.ID), k, edge.Errorf(edge.ECONFLICT, "A signing key %q exists.", k.ID))
}

// RetireSigningKey implements cloud.Store.
func (s *Store) RetireSigningKey(ctx context.Context, merchant, kid string, at time.Time) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		var k cloud.SigningKey
		if found, err := getJSON(txn, signingKeyKey(kid), &k); err != nil {
			return err
		} else if !found || k.Merchant != merchant {
			return cloud.ErrNotFound("signing key", kid)
		}
		if !k.RetiredAt.IsZero() {
			return nil
		}
		k.RetiredAt = at.UTC()
		return setJSON(txn, signingKeyKey(kid), k)
	})
	if err != nil && edge.ErrorCode(err) != edge.ENOTFOUND {
		return fmt.Errorf("badgerstore: retire signing key: %w", err)
	}
	return err
}

// ResealSigningKey implements cloud.Store.
func (s *Store) ResealSigningKey(ctx context.Context, kid, was, private string) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		var k cloud.SigningKey
		if found, err := getJSON(txn, signingKeyKey(kid), &k); err != nil {
			return err
		} else if !found || k.Private == "" || k.Private != was {
			return cloud.ErrNotFound("signing key", kid)
		}
		k.Private = private
		return setJSON(txn, signingKeyKey(kid), k)
	})
	if err != nil && edge.ErrorCode(err) != edge.ENOTFOUND {
		return fmt.Errorf("badgerstore: reseal signing key: %w", err)
	}
	return err
}

// SigningKeys implements cloud.Store.
func (s *Store) SigningKeys(ctx context.Context, scope cloud.Scope) ([]cloud.SigningKey, error) {
	out := []cloud.SigningKey{}
	err := s.each("g/", func(b []byte) error {
		var k cloud.SigningKey
		if err := json.Unmarshal(b, &k); err != nil {
			return err
		}
		if scope.Allows(k.Merchant) {
			out = append(out, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: signing keys: %w", err)
	}
	slices.SortStableFunc(out, func(a, b cloud.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Secret implements cloud.Store.
func (s *Store) Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error) {
	var out []byte
	err := s.update(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(secretKey(name))
		if err == nil {
			out, err = item.ValueCopy(nil)
			return err
		} else if err != badger.ErrKeyNotFound {
			return err
		}
		out = gen()
		return txn.Set(secretKey(name), out)
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: secret: %w", err)
	}
	return out, nil
}

// AdoptLegacy implements cloud.Store: returns and issuer and partner keys
// with no merchant are given merchant, and each return of a tracking
// number with no parcel gets one, at the status of its timeline's last
// entry. Done once; later calls only read the mark.
func (s *Store) AdoptLegacy(ctx context.Context, merchant string) error {
	if !cloud.ValidMerchantID(merchant) {
		return edge.Errorf(edge.EINVALID, "Legacy data needs a merchant to belong to.")
	}
	err := s.update(ctx, func(txn *badger.Txn) error {
		if ok, err := exists(txn, adoptedKey); err != nil || ok {
			return err
		}
		var rs []cloud.Return
		var ks []cloud.APIKey
		err := s.eachIn(txn, "r/", func(b []byte) error {
			var r cloud.Return
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			rs = append(rs, r)
			return nil
		})
		if err == nil {
			err = s.eachIn(txn, "k/", func(b []byte) error {
				var k cloud.APIKey
				if err := json.Unmarshal(b, &k); err != nil {
					return err
				}
				ks = append(ks, k)
				return nil
			})
		}
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := s.adoptReturn(txn, r, merchant); err != nil {
				return err
			}
		}
		for _, k := range ks {
			if k.Role != cloud.RoleOperator && k.Merchant == "" {
				k.Merchant = merchant
				if err := setJSON(txn, apiKeyKey(k.Hash), k); err != nil {
					return err
				}
			}
		}
		return txn.Set(adoptedKey, nil)
	})
	if err != nil {
		return fmt.Errorf("badgerstore: adopt legacy data: %w", err)
	}
	return nil
}

func (s *Store) adoptReturn(txn *badger.Txn, r cloud.Return, merchant string) error {
	if r.Merchant == "" {
		r.Merchant = merchant
		if err := setJSON(txn, returnKey(r.ID), r); err != nil {
			return err
		}
	}
	if !cloud.ValidTracking(r.Tracking) {
		return nil
	}
	if ok, err := exists(txn, parcelKey(r.Tracking)); err != nil || ok {
		return err // the first return of a tracking number keeps it
	}
	p := cloud.CreatedParcel(r)
	tl, err := timelineIn(txn, r.Tracking)
	if err != nil {
		return err
	}
	for _, e := range tl {
		p.Status, p.Holder = e.Status, ""
		if e.Status == cloud.StatusDeposited || e.Status == cloud.StatusReceivedInStore {
			p.Holder = e.Location
		}
	}
	return s.setParcel(txn, p, nil) // its timeline is under t/
}

// eachIn calls fn with the value of every key under prefix, in txn.
func (s *Store) eachIn(txn *badger.Txn, prefix string, fn func([]byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := it.Item().Value(fn); err != nil {
			return err
		}
	}
	return nil
}
