package badgerstore

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// Stuck parcels (issue 15) are found through an index by merchant, stage
// and time, kept in the transaction that moves the parcel:
//
//	K/{merchant}\x00{stage}\x00{since:8}{tracking}   -> terminal
//
// A parcel has one key while it waits at a stage, none otherwise. A list
// reads the keys of its stage from the oldest up to its cut-off. (The
// index was first kept under k/, among the API keys, whose listing then
// read it; Open moves it, migrate.go.)

const stuckIndexPrefix = "K/"

func stuckPrefix(merchant string, stage cloud.Stage) []byte {
	return []byte(stuckIndexPrefix + merchant + "\x00" + string(stage) + "\x00")
}

// stuckKey returns the index key of p, nil when p waits at no stage.
func stuckKey(p cloud.Parcel) []byte {
	stage, ok := cloud.StageOf(p.Status)
	if !ok {
		return nil
	}
	return append(be8(stuckPrefix(p.Merchant, stage), timeKey(p.Since)), p.Tracking...)
}

// indexStuck moves the index key of a parcel from its state before (found
// false when it is new) to its state after.
func indexStuck(txn *badger.Txn, before cloud.Parcel, found bool, after cloud.Parcel) error {
	var old []byte
	if found {
		old = stuckKey(before)
	}
	k := stuckKey(after)
	if string(old) == string(k) && (old == nil || before.Terminal == after.Terminal) {
		return nil
	}
	if old != nil {
		if err := txn.Delete(old); err != nil {
			return err
		}
	}
	if k == nil {
		return nil
	}
	return txn.Set(k, []byte(after.Terminal))
}

// stuckMerchants returns the merchants whose index keys a scope reads: the
// network's are every merchant's and those of parcels of no merchant.
func (s *Store) stuckMerchants(ctx context.Context, scope cloud.Scope) ([]string, error) {
	if !scope.All() {
		return []string{scope.Merchant}, nil
	}
	ms, err := s.Merchants(ctx, cloud.Network)
	if err != nil {
		return nil, err
	}
	out := []string{""}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out, nil
}

// eachStuck calls fn with the parcels of merchant waiting at stage since
// before before, oldest first, until fn returns false.
func eachStuck(txn *badger.Txn, merchant string, stage cloud.Stage, before time.Time, values bool, fn func(cloud.StuckParcel) bool) error {
	prefix := stuckPrefix(merchant, stage)
	end := string(be8(prefix, timeKey(before)))
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: values, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid() && string(it.Item().Key()) < end; it.Next() {
		k := it.Item().Key()
		p := cloud.StuckParcel{Stage: stage, Tracking: string(k[len(prefix)+8:]), Since: fromTimeKey(k[len(prefix):])}
		if values {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			p.Terminal = string(v)
		}
		if !fn(p) {
			return nil
		}
	}
	return nil
}

// StuckParcels implements cloud.Store. The network's list merges the
// merchants' index keys, oldest first, and stops at the limit: it reads
// about limit keys, not limit of each merchant's.
func (s *Store) StuckParcels(ctx context.Context, scope cloud.Scope, q cloud.StuckQuery) ([]cloud.StuckParcel, error) {
	merchants, err := s.stuckMerchants(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: stuck parcels: %w", err)
	}
	out := []cloud.StuckParcel{}
	err = s.db.View(func(txn *badger.Txn) error {
		// One iterator a merchant, each at its oldest key before the
		// cut-off; the oldest of their keys (then the lowest tracking
		// number) is taken until the limit.
		type head struct {
			it     *badger.Iterator
			prefix int
			end    string
		}
		var heads []*head
		defer func() {
			for _, h := range heads {
				h.it.Close()
			}
		}()
		for _, m := range merchants {
			prefix := stuckPrefix(m, q.Stage)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			h := &head{it: it, prefix: len(prefix), end: string(be8(prefix, timeKey(q.Before)))}
			heads = append(heads, h)
			it.Rewind()
		}
		valid := func(h *head) bool { return h.it.Valid() && string(h.it.Item().Key()) < h.end }
		// The key's part after the merchant and stage sorts as since,
		// then tracking number.
		rest := func(h *head) []byte { return h.it.Item().Key()[h.prefix:] }
		for len(out) < q.Limit {
			var next *head
			for _, h := range heads {
				if valid(h) && (next == nil || string(rest(h)) < string(rest(next))) {
					next = h
				}
			}
			if next == nil {
				return nil
			}
			k := rest(next)
			p := cloud.StuckParcel{Stage: q.Stage, Tracking: string(k[8:]), Since: fromTimeKey(k)}
			v, err := next.it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			p.Terminal = string(v)
			out = append(out, p)
			next.it.Next()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: stuck parcels: %w", err)
	}
	return out, nil
}

// CountStuck implements cloud.Store, reading the index's keys only.
func (s *Store) CountStuck(ctx context.Context, stage cloud.Stage, before time.Time) (int, error) {
	merchants, err := s.stuckMerchants(ctx, cloud.Network)
	if err != nil {
		return 0, fmt.Errorf("badgerstore: count stuck: %w", err)
	}
	n := 0
	err = s.db.View(func(txn *badger.Txn) error {
		for _, m := range merchants {
			if err := eachStuck(txn, m, stage, before, false, func(cloud.StuckParcel) bool { n++; return true }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("badgerstore: count stuck: %w", err)
	}
	return n, nil
}
