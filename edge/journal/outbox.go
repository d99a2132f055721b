package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// The outbox is the set of operations the cloud has not acked: each has a
// marker ob/<seq> holding its time, written with the operation and deleted by
// Ack. The operation itself stays under op/<seq> for history until Compact.
// Readers see no seq beyond LastSeq, the last one synced to disk, so the
// uplink never sends an operation that a power cut could still take back.

// ackChunk bounds the markers one transaction of Ack deletes.
const ackChunk = 4096

// Pending returns at most limit unacked operations with seq > afterSeq, in
// seq order. limit <= 0 means no limit.
func (j *Journal) Pending(ctx context.Context, afterSeq uint64, limit int) ([]edge.Operation, error) {
	if err := ctxErr(ctx, "pending"); err != nil {
		return nil, err
	}
	last := j.LastSeq()
	var ops []edge.Operation
	if afterSeq >= last {
		return ops, nil
	}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOutbox})
		defer it.Close()
		for it.Seek(seqKey(prefixOutbox, afterSeq+1)); it.Valid(); it.Next() {
			seq := keySeq(it.Item().Key())
			if seq > last || (limit > 0 && len(ops) >= limit) {
				break
			}
			op, ok, err := getOp(txn, seq)
			if err != nil {
				return err
			} else if ok {
				ops = append(ops, op)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal pending: %w", err)
	}
	return ops, nil
}

// Operations returns at most limit operations with seq > afterSeq, acked or
// not, in seq order: the terminal's history (less what Compact removed).
// limit <= 0 means no limit.
func (j *Journal) Operations(ctx context.Context, afterSeq uint64, limit int) ([]edge.Operation, error) {
	if err := ctxErr(ctx, "operations"); err != nil {
		return nil, err
	}
	last := j.LastSeq()
	var ops []edge.Operation
	if afterSeq >= last {
		return ops, nil
	}
	err := j.db.View(func(txn *badger.Txn) error {
		opts := badger.IteratorOptions{Prefix: prefixOp, PrefetchValues: true, PrefetchSize: 100}
		if limit > 0 && limit < opts.PrefetchSize {
			opts.PrefetchSize = limit
		}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(seqKey(prefixOp, afterSeq+1)); it.Valid(); it.Next() {
			if keySeq(it.Item().Key()) > last || (limit > 0 && len(ops) >= limit) {
				break
			}
			var op edge.Operation
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
				return fmt.Errorf("decode operation: %w", err)
			}
			ops = append(ops, op)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal operations: %w", err)
	}
	return ops, nil
}

// Operation returns the operation with seq; ENOTFOUND if there is none.
func (j *Journal) Operation(ctx context.Context, seq uint64) (edge.Operation, error) {
	if err := ctxErr(ctx, "operation"); err != nil {
		return edge.Operation{}, err
	}
	var op edge.Operation
	var ok bool
	err := j.db.View(func(txn *badger.Txn) (err error) {
		if seq <= j.LastSeq() {
			op, ok, err = getOp(txn, seq)
		}
		return err
	})
	if err != nil {
		return edge.Operation{}, fmt.Errorf("journal operation: %w", err)
	} else if !ok {
		return edge.Operation{}, edge.Errorf(edge.ENOTFOUND, "Operation %d not found.", seq)
	}
	return op, nil
}

func getOp(txn *badger.Txn, seq uint64) (edge.Operation, bool, error) {
	var op edge.Operation
	item, err := txn.Get(seqKey(prefixOp, seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return op, false, nil
	} else if err != nil {
		return op, false, err
	}
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
		return op, false, fmt.Errorf("decode operation %d: %w", seq, err)
	}
	return op, true, nil
}

// Ack marks the operations first..last (inclusive) as acked by the cloud:
// they leave the outbox and stay readable through Operations. Acking a seq
// twice, or one the journal does not have, does nothing. Acks are not synced
// on their own (the next append syncs them): losing one to a power cut only
// makes the uplink send those operations again, which the cloud ignores.
func (j *Journal) Ack(ctx context.Context, first, last uint64) error {
	first = max(first, 1)
	last = min(last, j.LastSeq())
	if first > last {
		return nil
	}
	err := j.write(ctx, false, func() error {
		for from := first; from <= last; {
			n, next, err := j.ackChunk(from, last)
			if err != nil {
				return err
			}
			j.mu.Lock()
			j.pending -= n
			j.mu.Unlock()
			if next == 0 {
				break
			}
			from = next
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal ack: %w", err)
	}
	return nil
}

// ackChunk deletes up to ackChunk outbox markers in from..last in one
// transaction. It returns how many it deleted and the seq to go on from, 0
// when the range is done.
func (j *Journal) ackChunk(from, last uint64) (n int, next uint64, err error) {
	err = j.db.Update(func(txn *badger.Txn) error {
		var keys [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOutbox})
		for it.Seek(seqKey(prefixOutbox, from)); it.Valid(); it.Next() {
			seq := keySeq(it.Item().Key())
			if seq > last {
				break
			}
			if len(keys) == ackChunk {
				next = seq
				break
			}
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return n, next, nil
}

// OutboxStats returns the number of unacked operations and the time of the
// oldest of them (zero when none). It reads a counter and one key.
func (j *Journal) OutboxStats(ctx context.Context) (pending int, oldest time.Time, err error) {
	if err := ctxErr(ctx, "outbox stats"); err != nil {
		return 0, time.Time{}, err
	}
	j.mu.Lock()
	pending = j.pending
	j.mu.Unlock()
	if pending == 0 {
		return 0, time.Time{}, nil
	}
	last := j.LastSeq()
	err = j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOutbox, PrefetchSize: 1})
		defer it.Close()
		it.Rewind()
		if !it.Valid() || keySeq(it.Item().Key()) > last {
			return nil
		}
		return it.Item().Value(func(v []byte) error {
			oldest = time.Unix(0, int64(getU64(v))).UTC()
			return nil
		})
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("journal outbox stats: %w", err)
	}
	return pending, oldest, nil
}
