package badgerstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func returnKey(id string) []byte   { return []byte("r/" + id) }
func terminalKey(id string) []byte { return []byte("m/" + id) }
func apiKeyKey(hash []byte) []byte { return []byte("k/" + hex.EncodeToString(hash)) }

// CreateReturn implements cloud.Store: the return, its parcel and its
// "created" entry in one transaction, so that two returns of one tracking
// number cannot both be stored (the second's transaction conflicts, is run
// again, and finds the parcel).
func (s *Store) CreateReturn(ctx context.Context, r cloud.Return) error {
	if r.ID == "" || !cloud.ValidTracking(r.Tracking) || !cloud.ValidMerchantID(r.Merchant) {
		return edge.Errorf(edge.EINVALID, "A return needs an id, a tracking number and a merchant.")
	}
	err := s.updateOut(ctx, func(txn *badger.Txn, out *outTxn) error {
		if ok, err := exists(txn, returnKey(r.ID)); err != nil {
			return err
		} else if ok {
			return edge.Errorf(edge.ECONFLICT, "Return %q exists.", r.ID)
		}
		if ok, err := exists(txn, parcelKey(r.Tracking)); err != nil {
			return err
		} else if ok {
			return cloud.ErrTrackingTaken(r.Tracking)
		}
		if err := setJSON(txn, returnKey(r.ID), r); err != nil {
			return err
		}
		p, e := cloud.CreatedParcel(r), cloud.CreatedEntry(r)
		if err := s.setParcel(txn, p, nil); err != nil {
			return err
		}
		if _, err := addEntry(txn, r.Tracking, e); err != nil {
			return err
		}
		if err := s.reportReturn(txn, out, r); err != nil {
			return err // returns insight (issue 15)
		}
		return out.entry(txn, p, e)
	})
	if err != nil {
		if _, coded := err.(*edge.Error); coded {
			return err
		}
		return fmt.Errorf("badgerstore: create return: %w", err)
	}
	return nil
}

// FindReturn implements cloud.Store.
func (s *Store) FindReturn(ctx context.Context, scope cloud.Scope, id string) (cloud.Return, error) {
	var r cloud.Return
	var found bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		found, err = getJSON(txn, returnKey(id), &r)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("badgerstore: find return: %w", err)
	} else if !found || !scope.Allows(r.Merchant) {
		return cloud.Return{}, cloud.ErrNotFound("return", id)
	}
	return r, nil
}

// CreateTerminal implements cloud.Store.
func (s *Store) CreateTerminal(ctx context.Context, t cloud.Terminal) error {
	if t.ID == "" {
		return edge.Errorf(edge.EINVALID, "A terminal needs an id.")
	}
	t.AckedSeq = 0 // derived from the watermark, never stored
	err := s.update(ctx, func(txn *badger.Txn) error {
		var old cloud.Terminal
		if found, err := getJSON(txn, terminalKey(t.ID), &old); err != nil {
			return err
		} else if found && !old.Decommissioned() {
			return edge.Errorf(edge.ECONFLICT, "Terminal %q is already enrolled.", t.ID)
		} else if found {
			return setJSON(txn, terminalKey(t.ID), t.Succeeding(old))
		}
		return setJSON(txn, terminalKey(t.ID), t)
	})
	if err != nil {
		return fmt.Errorf("badgerstore: create terminal: %w", err)
	}
	return nil
}

// FindTerminal implements cloud.Store.
func (s *Store) FindTerminal(ctx context.Context, id string) (cloud.Terminal, error) {
	var t cloud.Terminal
	var found bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		if found, err = getJSON(txn, terminalKey(id), &t); err != nil || !found {
			return err
		}
		t.AckedSeq, err = watermark(txn, id)
		return err
	})
	if err != nil {
		return t, fmt.Errorf("badgerstore: find terminal: %w", err)
	} else if !found {
		return t, cloud.ErrNotFound("terminal", id)
	}
	return t, nil
}

// Terminals implements cloud.Store.
func (s *Store) Terminals(ctx context.Context) ([]cloud.Terminal, error) {
	out := []cloud.Terminal{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("m/"), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var t cloud.Terminal
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &t) }); err != nil {
				return err
			}
			wm, err := watermark(txn, t.ID)
			if err != nil {
				return err
			}
			t.AckedSeq = wm
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: terminals: %w", err)
	}
	return out, nil
}

// UpdateTerminalStatus implements cloud.Store.
func (s *Store) UpdateTerminalStatus(ctx context.Context, id string, u cloud.StatusUpdate) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		var t cloud.Terminal
		found, err := getJSON(txn, terminalKey(id), &t)
		if err != nil {
			return err
		} else if !found {
			return cloud.ErrNotFound("terminal", id)
		}
		t.Online = u.Online
		if u.Status != nil {
			t.Status = u.Status
		}
		if !u.SeenAt.IsZero() && u.SeenAt.After(t.LastSeen) {
			t.LastSeen = u.SeenAt.UTC()
		}
		t.AckedSeq = 0
		return setJSON(txn, terminalKey(id), t)
	})
	if err != nil {
		return fmt.Errorf("badgerstore: update terminal status: %w", err)
	}
	return nil
}

// PutAPIKey implements cloud.Store.
func (s *Store) PutAPIKey(ctx context.Context, k cloud.APIKey) error {
	if err := k.Check(); err != nil {
		return err
	}
	err := s.update(ctx, func(txn *badger.Txn) error { return setJSON(txn, apiKeyKey(k.Hash), k) })
	if err != nil {
		return fmt.Errorf("badgerstore: put api key: %w", err)
	}
	return nil
}

// FindAPIKey implements cloud.Store.
func (s *Store) FindAPIKey(ctx context.Context, hash []byte) (cloud.APIKey, error) {
	var k cloud.APIKey
	var found bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		found, err = getJSON(txn, apiKeyKey(hash), &k)
		return err
	})
	if err != nil {
		return k, fmt.Errorf("badgerstore: find api key: %w", err)
	} else if !found {
		return k, edge.Errorf(edge.ENOTFOUND, "No such API key.")
	}
	return k, nil
}

// CountAPIKeys implements cloud.Store.
func (s *Store) CountAPIKeys(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("k/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("badgerstore: count api keys: %w", err)
	}
	return n, nil
}

// APIKeys implements cloud.Store; keys sort by their hex hash, which is
// the order of the hashes.
func (s *Store) APIKeys(ctx context.Context) ([]cloud.APIKey, error) {
	out := []cloud.APIKey{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("k/"), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var k cloud.APIKey
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &k) }); err != nil {
				return err
			}
			out = append(out, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: api keys: %w", err)
	}
	return out, nil
}

// DeleteAPIKey implements cloud.Store.
func (s *Store) DeleteAPIKey(ctx context.Context, hash []byte) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		if ok, err := exists(txn, apiKeyKey(hash)); err != nil {
			return err
		} else if !ok {
			return edge.Errorf(edge.ENOTFOUND, "No such API key.")
		}
		return txn.Delete(apiKeyKey(hash))
	})
	if err != nil {
		return fmt.Errorf("badgerstore: delete api key: %w", err)
	}
	return nil
}

// Revoke implements cloud.Store.
func (s *Store) Revoke(ctx context.Context, scope cloud.Scope, raID string) error {
	if raID == "" {
		return edge.Errorf(edge.EINVALID, "A revocation needs an RA id.")
	}
	err := s.update(ctx, func(txn *badger.Txn) error {
		var r cloud.Return
		if found, err := getJSON(txn, returnKey(raID), &r); err != nil {
			return err
		} else if !found || !scope.Allows(r.Merchant) {
			return cloud.ErrNotFound("return", raID)
		}
		return txn.Set([]byte("v/"+raID), nil)
	})
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("badgerstore: revoke: %w", err)
	}
	return nil
}

// Revocations implements cloud.Store.
func (s *Store) Revocations(ctx context.Context) ([]string, error) {
	out := []string{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("v/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().Key()[2:]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: revocations: %w", err)
	}
	return out, nil
}

// SeqFloor implements cloud.Store: the terminal's mark holds both.
func (s *Store) SeqFloor(ctx context.Context, id string) (uint64, error) {
	var m mark
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		m, err = readMark(txn, id, s.marksKept)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("badgerstore: seq floor: %w", err)
	}
	return max(m.wm, m.hi), nil
}
