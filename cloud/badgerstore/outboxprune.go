package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
)

// pruneChunk is how many keys one transaction of PruneEvents deletes.
const pruneChunk = 1000

// PruneEvents implements cloud.Store: it removes the oldest records while
// they were written before before and no active subscription of a
// merchant with events in them is behind, never the last record (its
// number is where the next one starts); then the merchants' indexes of
// the records removed.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	ws, err := s.Webhooks(ctx, cloud.Network)
	if err != nil {
		return 0, err
	}
	held := map[string]uint64{} // merchant -> the lowest cursor of its active subscriptions
	for _, w := range ws {
		if c, ok := held[w.Merchant]; w.Disabled == "" && (!ok || w.Cursor < c) {
			held[w.Merchant] = w.Cursor
		}
	}
	head, err := s.EventsHead(ctx)
	if err != nil {
		return 0, err
	}
	removed := 0
	for {
		var keys [][]byte
		more := false
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/")})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n := binary.BigEndian.Uint64(it.Item().Key()[2:])
				if n >= head>>16 {
					return nil
				}
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				if at, _ := recordAt(v); !at.Before(before) {
					return nil
				}
				if kept, err := heldBack(txn, held, n); err != nil || kept {
					return err
				}
				refs, err := parseRecord(v)
				if err != nil {
					return fmt.Errorf("record %d: %w", n, err)
				}
				if len(keys) == pruneChunk {
					more = true
					return nil
				}
				keys, removed = append(keys, outKey(n)), removed+len(refs)
			}
			return nil
		})
		if err == nil {
			err = s.deleteKeys(ctx, keys)
		}
		if err != nil {
			return removed, fmt.Errorf("badgerstore: prune events: %w", err)
		}
		if !more {
			break
		}
	}
	if removed == 0 {
		return 0, nil
	}
	if err := s.pruneMerchantIndexes(ctx); err != nil {
		return removed, fmt.Errorf("badgerstore: prune events: %w", err)
	}
	return removed, nil
}

// heldBack reports whether a merchant of held has events in record n that
// its cursor has not passed.
func heldBack(txn *badger.Txn, held map[string]uint64, n uint64) (bool, error) {
	for m, cursor := range held {
		if cursor >= n<<16|(recordMax-1) {
			continue
		}
		item, err := txn.Get(be8(merchantOutPrefix(m), n))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		} else if err != nil {
			return false, err
		}
		var last uint64
		if err := item.Value(func(idx []byte) error {
			if len(idx) >= 2 {
				last = uint64(binary.BigEndian.Uint16(idx[len(idx)-2:]))
			}
			return nil
		}); err != nil {
			return false, err
		}
		if cursor < n<<16|last {
			return true, nil
		}
	}
	return false, nil
}

// pruneMerchantIndexes removes the O/ keys of records that are gone: those
// numbered below the oldest record kept, merchant by merchant.
func (s *Store) pruneMerchantIndexes(ctx context.Context) error {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		var oldest uint64
		o := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/")})
		if o.Rewind(); o.Valid() {
			oldest = binary.BigEndian.Uint64(o.Item().Key()[2:])
		}
		o.Close()
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("O/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			k := it.Item().KeyCopy(nil)
			if len(k) < 11 {
				it.Next()
				continue
			}
			if binary.BigEndian.Uint64(k[len(k)-8:]) < oldest {
				keys = append(keys, k)
				it.Next()
				continue
			}
			// The merchant's other keys are of records kept.
			it.Seek(append(bytes.Clone(k[:len(k)-9]), 1))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.deleteKeys(ctx, keys)
}

// deleteKeys deletes keys, pruneChunk a transaction.
func (s *Store) deleteKeys(ctx context.Context, keys [][]byte) error {
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), pruneChunk)]
		keys = keys[len(chunk):]
		if err := s.update(ctx, func(txn *badger.Txn) error {
			for _, k := range chunk {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
