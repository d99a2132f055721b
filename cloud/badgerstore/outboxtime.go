package badgerstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// EventsAt implements cloud.Store: records are numbered in the order they
// are written, so a binary search over their numbers finds the first one
// written at t or later.
func (s *Store) EventsAt(ctx context.Context, t time.Time) (uint64, error) {
	head, err := s.EventsHead(ctx)
	if err != nil {
		return 0, err
	}
	pos := head
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/")})
		defer it.Close()
		// at seeks the first record numbered n or above: its number and time.
		at := func(n uint64) (uint64, time.Time, error) {
			it.Seek(outKey(n))
			if !it.Valid() {
				return 0, time.Time{}, fmt.Errorf("no record from %d", n)
			}
			var when time.Time
			err := it.Item().Value(func(v []byte) error { when, _ = recordAt(v); return nil })
			return binary.BigEndian.Uint64(it.Item().Key()[2:]), when, err
		}
		it.Rewind()
		if !it.Valid() {
			return nil
		}
		lo, hi := binary.BigEndian.Uint64(it.Item().Key()[2:]), head>>16+1
		for lo < hi {
			mid := lo + (hi-lo)/2
			_, when, err := at(mid)
			if err != nil {
				return err
			}
			if when.Before(t) {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo > head>>16 {
			return nil // all were before t
		}
		n, _, err := at(lo)
		pos = n<<16 - 1
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("badgerstore: events at: %w", err)
	}
	return pos, nil
}
