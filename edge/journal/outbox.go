package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// The outbox is the set of operations the cloud has not acked: every op/<seq>
// above the acked watermark (ak/w: all seqs up to it acked) that is not in
// one of the acked ranges above it (ak/r/<first>: first..last acked out of
// order). Acks nearly always come in seq order, so an ack moves the
// watermark and writes one small key, where a marker per operation would
// cost a delete (and a tombstone for Badger to compact) per acked op. The
// operation itself stays under op/<seq> for history until Compact.
// Readers see no seq beyond LastSeq, the last one synced to disk, so the
// uplink never sends an operation that a power cut could still take back.

// ackSet is the acked part of the outbox: every seq up to to, and ranges of
// seqs above to+1, sorted, disjoint and not adjacent. It is a value: add
// returns a new one and never changes the ranges of the old, so readers may
// keep a copy taken under Journal.mu.
type ackSet struct {
	to     uint64
	ranges []seqRange
}

type seqRange struct{ first, last uint64 }

// acked reports whether seq is acked.
func (s ackSet) acked(seq uint64) bool {
	_, ok := s.ackedTo(seq)
	return ok
}

// ackedTo reports whether seq is acked and, if so, the last seq of the run
// of acked seqs it is in.
func (s ackSet) ackedTo(seq uint64) (uint64, bool) {
	if seq <= s.to {
		return s.to, true
	}
	i := sort.Search(len(s.ranges), func(i int) bool { return s.ranges[i].last >= seq })
	if i < len(s.ranges) && s.ranges[i].first <= seq {
		return s.ranges[i].last, true
	}
	return 0, false
}

// count returns the number of acked seqs up to last.
func (s ackSet) count(last uint64) uint64 {
	n := min(s.to, last)
	for _, r := range s.ranges {
		if r.first <= last {
			n += min(r.last, last) - r.first + 1
		}
	}
	return n
}

// add returns s with first..last acked.
func (s ackSet) add(first, last uint64) ackSet {
	rs := make([]seqRange, 0, len(s.ranges)+1)
	rs = append(rs, s.ranges...)
	rs = append(rs, seqRange{first, last})
	sort.Slice(rs, func(a, b int) bool { return rs[a].first < rs[b].first })
	out := ackSet{to: s.to}
	for _, r := range rs {
		switch n := len(out.ranges); {
		case r.first <= out.to+1 && n == 0:
			out.to = max(out.to, r.last)
		case n > 0 && r.first <= out.ranges[n-1].last+1:
			out.ranges[n-1].last = max(out.ranges[n-1].last, r.last)
		default:
			out.ranges = append(out.ranges, r)
		}
	}
	return out
}

// Pending returns at most limit unacked operations with seq > afterSeq, in
// seq order. limit <= 0 means no limit.
func (j *Journal) Pending(ctx context.Context, afterSeq uint64, limit int) ([]edge.Operation, error) {
	if err := ctxErr(ctx, "pending"); err != nil {
		return nil, err
	}
	last := j.LastSeq()
	var ops []edge.Operation
	j.mu.Lock()
	acks := j.acks
	j.mu.Unlock()
	from := max(afterSeq, acks.to) + 1
	if from > last {
		return ops, nil
	}
	err := j.db.View(func(txn *badger.Txn) error {
		opts := badger.IteratorOptions{Prefix: prefixOp, PrefetchValues: true, PrefetchSize: 100}
		if limit > 0 && limit < opts.PrefetchSize {
			opts.PrefetchSize = limit
		}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(seqKey(prefixOp, from)); it.Valid(); {
			seq := keySeq(it.Item().Key())
			if seq > last || (limit > 0 && len(ops) >= limit) {
				break
			}
			if end, ok := acks.ackedTo(seq); ok {
				// Skip the acked range whole, not key by key.
				it.Seek(seqKey(prefixOp, end+1))
				continue
			}
			var op edge.Operation
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
				return fmt.Errorf("decode operation %d: %w", seq, err)
			}
			ops = append(ops, op)
			it.Next()
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
// twice, or one the journal does not have, does nothing. An ack writes the
// watermark and the acked ranges that changed, a few keys however many
// operations it acks. Acks are not synced on their own (the next append
// syncs them): losing one to a power cut only makes the uplink send those
// operations again, which the cloud ignores.
func (j *Journal) Ack(ctx context.Context, first, last uint64) error {
	first = max(first, 1)
	last = min(last, j.LastSeq())
	if first > last {
		return nil
	}
	err := j.write(ctx, false, func() error {
		// The writer alone changes j.acks, so it may read it unlocked.
		old := j.acks
		acks := old.add(first, last)
		if err := j.db.Update(func(txn *badger.Txn) error { return putAcks(txn, old, acks) }); err != nil {
			return err
		}
		n := acks.count(j.LastSeq()) - old.count(j.LastSeq())
		j.mu.Lock()
		j.acks = acks
		j.pending -= int(n)
		j.mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal ack: %w", err)
	}
	return nil
}

// putAcks writes the change from old to acks: the watermark if it moved,
// the ranges that are new or changed; it deletes the ranges that are gone.
func putAcks(txn *badger.Txn, old, acks ackSet) error {
	if acks.to != old.to {
		if err := txn.Set(keyAckedTo, u64(acks.to)); err != nil {
			return err
		}
	}
	kept := make(map[seqRange]bool, len(acks.ranges))
	for _, r := range acks.ranges {
		kept[r] = true
	}
	was := make(map[seqRange]bool, len(old.ranges))
	for _, r := range old.ranges {
		was[r] = true
		if !kept[r] {
			if err := txn.Delete(seqKey(prefixAckRange, r.first)); err != nil {
				return err
			}
		}
	}
	for _, r := range acks.ranges {
		if !was[r] {
			if err := txn.Set(seqKey(prefixAckRange, r.first), u64(r.last)); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadAcks reads the acked set, or makes it from the outbox markers (ob/<seq>,
// one per unacked operation) of a journal written before the watermark: the
// seqs up to the first marker and those between markers were acked. It
// writes the set and drops the markers, then syncs, so that the next open
// finds the watermark and never reads markers again.
func (j *Journal) loadAcks() error {
	last := j.LastSeq()
	var acks ackSet
	found, markers := false, false
	err := j.db.View(func(txn *badger.Txn) error {
		if item, err := txn.Get(keyAckedTo); err == nil {
			found = true
			if err := item.Value(func(v []byte) error { acks.to = getU64(v); return nil }); err != nil {
				return err
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if found {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixAckRange, PrefetchValues: true, PrefetchSize: 16})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				r := seqRange{first: keySeq(it.Item().Key())}
				if err := it.Item().Value(func(v []byte) error { r.last = getU64(v); return nil }); err != nil {
					return err
				}
				if r.first > acks.to && r.first <= r.last {
					acks.ranges = append(acks.ranges, r)
				}
			}
			return nil
		}
		// No watermark: a new journal, or one with outbox markers.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOutbox})
		defer it.Close()
		next := uint64(1) // first seq not yet accounted for
		for it.Rewind(); it.Valid(); it.Next() {
			seq := keySeq(it.Item().Key())
			if seq > last {
				break
			}
			markers = true
			if seq > next {
				acks = acks.add(next, seq-1)
			}
			next = seq + 1
		}
		if next <= last {
			acks = acks.add(next, last)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read acks: %w", err)
	}
	if !found {
		if err := j.db.Update(func(txn *badger.Txn) error {
			if err := txn.Set(keyAckedTo, u64(acks.to)); err != nil {
				return err
			}
			return putAcks(txn, ackSet{to: acks.to}, acks)
		}); err != nil {
			return fmt.Errorf("write acks: %w", err)
		}
		if markers {
			if err := j.db.DropPrefix(prefixOutbox); err != nil {
				return fmt.Errorf("drop outbox markers: %w", err)
			}
		}
		if err := j.db.Sync(); err != nil {
			return fmt.Errorf("sync acks: %w", err)
		}
	}
	j.acks = acks
	j.pending = int(last - acks.count(last))
	return nil
}

// OutboxStats returns the number of unacked operations and the time of the
// oldest of them (zero when none). It reads a counter and at most one
// operation.
func (j *Journal) OutboxStats(ctx context.Context) (pending int, oldest time.Time, err error) {
	if err := ctxErr(ctx, "outbox stats"); err != nil {
		return 0, time.Time{}, err
	}
	// The oldest unacked operation is the one after the watermark: a range
	// starting there would have moved the watermark. Its time is cached.
	j.mu.Lock()
	pending = j.pending
	seq := j.acks.to + 1
	if j.oldestSeq == seq {
		oldest = j.oldestAt
	}
	j.mu.Unlock()
	if pending == 0 {
		return 0, time.Time{}, nil
	}
	if !oldest.IsZero() || seq > j.LastSeq() {
		return pending, oldest, nil
	}
	var op edge.Operation
	var ok bool
	err = j.db.View(func(txn *badger.Txn) (err error) {
		op, ok, err = getOp(txn, seq)
		return err
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("journal outbox stats: %w", err)
	}
	if ok {
		oldest = op.OccurredAt.UTC()
		j.mu.Lock()
		j.oldestSeq, j.oldestAt = seq, oldest
		j.mu.Unlock()
	}
	return pending, oldest, nil
}

// SeqFloor makes the journal number its next operation above floor, the
// seqs up to it counted as acked: the cloud holds them from another device
// of the same terminal id, which this one replaces (enrolment's seq_floor).
// A journal already at or past floor is left as it is. A journal with
// operations not yet acked below floor is refused with an error: they
// would be taken for the other device's and dropped. Call it before the
// first Append.
func (j *Journal) SeqFloor(floor uint64) error {
	if floor <= j.LastSeq() {
		return nil
	}
	j.mu.Lock()
	pending, old := j.pending, j.acks
	j.mu.Unlock()
	if pending > 0 {
		return fmt.Errorf("journal: %d operations not yet acked are numbered below the cloud's seq floor %d (another device's): sync them before this device is enrolled again", pending, floor)
	}
	acks := ackSet{to: floor}
	err := j.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keyLastSeq, u64(floor)); err != nil {
			return err
		}
		return putAcks(txn, old, acks)
	})
	if err == nil {
		err = j.db.Sync()
	}
	if err != nil {
		return fmt.Errorf("journal seq floor: %w", err)
	}
	j.mu.Lock()
	j.acks = acks
	j.mu.Unlock()
	j.lastSeq.Store(floor)
	return nil
}
