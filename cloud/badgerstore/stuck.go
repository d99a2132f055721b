package badgerstore

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// Stuck parcels (issue 15) are found through an index kept in memory
// (stuckindex.go): the parcels waiting at a stage, with their merchant,
// since when and where, in the lists' order. It is built at Open from the
// parcels (p/, read with the parcels filter) and moved by every
// transaction that moves a parcel, once it committed.
//
// It was first a key a parcel (K/{merchant}\x00{stage}\x00{since:8}
// {tracking}) written in the ingest's transaction beside the parcel: one
// key more for every deposit and handover, a fifth of the keys a deposit
// writes, and Badger's cost goes with its keys. Keys left under K/ by a
// store written before are dropped at Open (loadParcels).
//
// The index is right because the parcels have one writer: every
// transaction that moves a parcel runs in updateOut, under s.out.mu, and
// the index takes its changes under that lock after the commit, so that
// the index follows the commits in their order and never holds a change
// that was not committed.

// stuckIndexPrefix is the prefix of the old stuck index's keys.
const stuckIndexPrefix = "K/"

// stuckMoves are the parcels a transaction moved, for the index once it
// committed (a parcel moved twice is set twice, in order): each its
// tracking number and its entry, made as it moved (nil when it waits at
// no stage), so that the index only puts them, under one lock. A move
// was the parcel first (144 bytes, and 4,096 locks of the index a group).
type stuckMoves []stuckMove

type stuckMove struct {
	tracking string
	e        *stuckEntry
}

// moved records that the transaction left p in this state.
func (m *stuckMoves) moved(tracking string, p cloud.Parcel) {
	p.Tracking = tracking
	*m = append(*m, stuckMove{tracking, entryOf(p)})
}

// apply sets the moves in the index.
func (x *stuckIndex) apply(moves stuckMoves) {
	if len(moves) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, mv := range moves {
		x.put(mv.tracking, mv.e)
	}
}

// loadParcels builds, in one pass over the parcels, their filter
// (parcelcodec.go) and the index of those stuck, dropping first the keys
// of the old index (stuckIndexPrefix) if there are any.
func (s *Store) loadParcels() error {
	var old bool
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(stuckIndexPrefix)})
		defer it.Close()
		it.Rewind()
		old = it.Valid()
		return nil
	})
	if err == nil && old {
		err = s.db.DropPrefix([]byte(stuckIndexPrefix))
	}
	if err != nil {
		return fmt.Errorf("badgerstore: stuck index: %w", err)
	}
	x := newStuckIndex()
	var keys [][]byte
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("p/"), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			keys = append(keys, item.KeyCopy(nil)[2:])
			if err := item.Value(func(v []byte) error {
				p, err := decodeParcel(string(item.Key()[2:]), v)
				if err != nil {
					return fmt.Errorf("parcel %q: %w", item.Key()[2:], err)
				}
				x.set(p)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("badgerstore: parcels: %w", err)
	}
	s.stuck, s.parcels = x, newKeyFilter(keys)
	return nil
}

// StuckParcels implements cloud.Store.
func (s *Store) StuckParcels(ctx context.Context, scope cloud.Scope, q cloud.StuckQuery) ([]cloud.StuckParcel, error) {
	return s.stuck.list(scope, q.Stage, q.Before, q.Limit), nil
}

// CountStuck implements cloud.Store.
func (s *Store) CountStuck(ctx context.Context, stage cloud.Stage, before time.Time) (int, error) {
	return s.stuck.count(stage, before), nil
}
