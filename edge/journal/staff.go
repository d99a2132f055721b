package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// ListStaff returns every staff account, ordered by id.
func (j *Journal) ListStaff(ctx context.Context) ([]edge.Staff, error) {
	if err := ctxErr(ctx, "list staff"); err != nil {
		return nil, err
	}
	staff := []edge.Staff{}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixStaff, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var s edge.Staff
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				return fmt.Errorf("decode staff: %w", err)
			}
			staff = append(staff, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal list staff: %w", err)
	}
	return staff, nil
}

// PutStaff creates or replaces an account, durably. INVALID if it has no id
// or an unknown role.
func (j *Journal) PutStaff(ctx context.Context, s edge.Staff) error {
	if s.ID == "" {
		return edge.Errorf(edge.EINVALID, "A staff account needs an id.")
	}
	if !edge.ValidRole(s.Role) {
		return edge.Errorf(edge.EINVALID, "Unknown staff role %q.", s.Role)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("journal put staff: %w", err)
	}
	err = j.write(ctx, true, func() error {
		return j.db.Update(func(txn *badger.Txn) error {
			return txn.Set(strKey(prefixStaff, s.ID), raw)
		})
	})
	if err != nil {
		return fmt.Errorf("journal put staff: %w", err)
	}
	return nil
}

// SignInState returns the sign-in's lockout state, the zero state when none
// was stored.
func (j *Journal) SignInState(ctx context.Context) (edge.SignInState, error) {
	if err := ctxErr(ctx, "sign-in state"); err != nil {
		return edge.SignInState{}, err
	}
	var st edge.SignInState
	err := j.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keySignIn)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &st) })
	})
	if err != nil {
		return edge.SignInState{}, fmt.Errorf("journal sign-in state: %w", err)
	}
	return st, nil
}

// PutSignInState replaces the sign-in's lockout state, durably.
func (j *Journal) PutSignInState(ctx context.Context, st edge.SignInState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("journal put sign-in state: %w", err)
	}
	err = j.write(ctx, true, func() error {
		return j.db.Update(func(txn *badger.Txn) error { return txn.Set(keySignIn, raw) })
	})
	if err != nil {
		return fmt.Errorf("journal put sign-in state: %w", err)
	}
	return nil
}
