package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// Dead letters are kept under d/{at:8}{rand:8} (the listing, oldest first),
// with an index D/{terminal}\x00{at:8}{rand:8} per terminal for its cap.
// The 16 bytes after the prefix, in hex, are the dead letter's ID.

const deadLetterIDLen = 16

func deadLetterKey(id []byte) []byte { return append([]byte("d/"), id...) }

func deadLetterIndexPrefix(tid string) []byte { return []byte("D/" + tid + "\x00") }

func deadLetterIndexKey(tid string, id []byte) []byte {
	return append(deadLetterIndexPrefix(tid), id...)
}

// deleteBatch bounds the keys deleted in one transaction.
const deleteBatch = 1000

// AddDeadLetter implements cloud.Store.
func (s *Store) AddDeadLetter(ctx context.Context, d cloud.DeadLetter) error {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	d.At = d.At.UTC()
	d.ID = ""
	id := append(be8(nil, timeKey(d.At)), randomSuffix()...)
	err := s.update(ctx, func(txn *badger.Txn) error {
		if err := setJSON(txn, deadLetterKey(id), d); err != nil {
			return err
		}
		return txn.Set(deadLetterIndexKey(d.Terminal, id), nil)
	})
	if err != nil {
		return fmt.Errorf("badgerstore: add dead letter: %w", err)
	}
	return nil
}

// DeadLetters implements cloud.Store.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]cloud.DeadLetter, string, error) {
	start := deadLetterKey(nil)
	if after != "" {
		id, err := hex.DecodeString(after)
		if err != nil || len(id) != deadLetterIDLen {
			return nil, "", edge.Errorf(edge.EINVALID, "The cursor %q is not one this listing gave.", after)
		}
		start = deadLetterKey(id)
	}
	out := []cloud.DeadLetter{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("d/"), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			key := it.Item().Key()
			if after != "" && bytes.Equal(key, start) {
				continue
			}
			if len(out) > limit {
				return nil
			}
			var d cloud.DeadLetter
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &d) }); err != nil {
				return err
			}
			d.ID = hex.EncodeToString(key[2:])
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("badgerstore: dead letters: %w", err)
	}
	page, next := cloud.DeadLetterPage(out, limit)
	return page, next, nil
}

// PruneDeadLetters implements cloud.Store.
func (s *Store) PruneDeadLetters(ctx context.Context, terminal string, keep int, before time.Time) (int, error) {
	n := 0
	for {
		doomed, err := s.doomedDeadLetters(terminal, keep, before)
		if err != nil {
			return n, fmt.Errorf("badgerstore: prune dead letters: %w", err)
		}
		if len(doomed) == 0 {
			return n, nil
		}
		err = s.update(ctx, func(txn *badger.Txn) error {
			for _, k := range doomed {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("badgerstore: prune dead letters: %w", err)
		}
		n += len(doomed) / 2
	}
}

// doomedDeadLetters returns the keys (listing and index, in pairs) of up to
// deleteBatch dead letters to remove: those older than before, then the
// terminal's beyond its keep newest.
func (s *Store) doomedDeadLetters(terminal string, keep int, before time.Time) ([][]byte, error) {
	var doomed [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		// Expired, all terminals: from the oldest.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("d/"), PrefetchValues: false})
		for it.Rewind(); it.Valid() && len(doomed) < 2*deleteBatch; it.Next() {
			key := it.Item().KeyCopy(nil)
			if binary.BigEndian.Uint64(key[2:10]) >= timeKey(before) {
				break
			}
			var d cloud.DeadLetter
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &d) }); err != nil {
				it.Close()
				return err
			}
			doomed = append(doomed, key, deadLetterIndexKey(d.Terminal, key[2:]))
		}
		it.Close()
		if len(doomed) > 0 {
			return nil // the cap is applied on the next round
		}
		// Over the terminal's cap: skip its keep newest.
		prefix := deadLetterIndexPrefix(terminal)
		it = txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		seen := 0
		for it.Seek(append(append([]byte(nil), prefix...), bytes.Repeat([]byte{0xff}, deadLetterIDLen+1)...)); it.Valid() && len(doomed) < 2*deleteBatch; it.Next() {
			if seen++; seen <= keep {
				continue
			}
			key := it.Item().KeyCopy(nil)
			doomed = append(doomed, deadLetterKey(key[len(prefix):]), key)
		}
		return nil
	})
	return doomed, err
}
