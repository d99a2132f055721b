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

// Personal data of a customer's return lives in three places of the
// journal: the items of its return.deposited (and of an instore.received),
// the reason typed for its return.cancelled, and its print jobs (the label
// carries the return warehouse's address and the items, the receipt its
// signed token). Scrub rewrites those operations to their skeleton and
// deletes those jobs; what stays (ids, seq, type, times, tracking, carrier,
// weight, slot, the deposit's record and the counts) is what the counts,
// the month's statement and a dispute about a parcel need.

// scrubbedFields are the fields of an operation's data that Scrub drops,
// by operation type.
var scrubbedFields = map[edge.OpType][]string{
	edge.OpReturnDeposited: {"items"},
	edge.OpInstoreReceived: {"items"},
	edge.OpReturnCancelled: {"reason"},
}

// keyScrubbed holds the seq up to which Scrub has considered the
// operations it scrubs by their own time (in-store returns).
var keyScrubbed = []byte("mt/scrub")

// Scrub erases the personal data of the returns that ended before cutoff:
// deposits handed over or cancelled before it (their deposit, the
// cancellation's reason, their print jobs) and in-store returns that
// occurred before it. Only operations the cloud has acked are touched (the
// cloud must hold them whole); the others wait for the next Scrub. What it
// rewrites is then erased from the disk as Compact's deletions are. It
// returns the number of operations scrubbed.
func (j *Journal) Scrub(ctx context.Context, cutoff time.Time) (int, error) {
	j.mu.Lock()
	acks := j.acks
	j.mu.Unlock()
	var deposits []edge.DepositRecord
	var seqs []uint64
	var from uint64
	var jobs map[string][]edge.PrintJob
	err := j.db.View(func(txn *badger.Txn) error {
		var err error
		if deposits, err = closedDeposits(txn, cutoff, acks); err != nil {
			return err
		}
		if len(deposits) > 0 {
			if jobs, err = jobsByOperation(txn); err != nil {
				return err
			}
		}
		seqs, from, err = j.oldInstore(txn, cutoff, acks)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("journal scrub: %w", err)
	}
	for _, rec := range deposits {
		seqs = append(seqs, rec.Parcel.Seq)
		if rec.State == edge.DepositCancelled {
			seqs = append(seqs, rec.ClosedSeq)
		}
	}
	n := 0
	err = j.write(ctx, false, func() error {
		for len(seqs) > 0 || len(deposits) > 0 {
			chunk := seqs[:min(len(seqs), compactChunk/4)]
			seqs = seqs[len(chunk):]
			recs := deposits[:min(len(deposits), compactChunk/4)]
			deposits = deposits[len(recs):]
			err := j.db.Update(func(txn *badger.Txn) error {
				for _, seq := range chunk {
					done, err := scrubOp(txn, seq)
					if err != nil {
						return err
					}
					if done {
						n++
					}
				}
				for _, rec := range recs {
					for _, job := range jobs[rec.Parcel.DepositID] {
						if err := txn.Delete(strKey(prefixJob, job.ID)); err != nil {
							return err
						}
						if err := txn.Delete(jobQueueKey(job.CreatedAt, job.ID)); err != nil {
							return err
						}
					}
					rec.Erased = true
					raw, err := json.Marshal(rec)
					if err != nil {
						return err
					}
					if err := txn.Set(strKey(prefixDeposit, rec.Parcel.DepositID), raw); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return j.db.Update(func(txn *badger.Txn) error { return txn.Set(keyScrubbed, u64(from)) })
	})
	if err != nil {
		return n, fmt.Errorf("journal scrub: %w", err)
	}
	if n > 0 {
		if err := j.erase(ctx); err != nil {
			return n, fmt.Errorf("journal scrub: erase: %w", err)
		}
		j.logger.Info("personal data erased", "operations", n, "ended_before", cutoff)
	}
	return n, nil
}

// closedDeposits returns the records of the deposits handed over or
// cancelled before cutoff, not yet scrubbed, whose operations are acked.
func closedDeposits(txn *badger.Txn, cutoff time.Time, acks ackSet) ([]edge.DepositRecord, error) {
	var recs []edge.DepositRecord
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixDeposit, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var rec edge.DepositRecord
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
			return nil, fmt.Errorf("decode deposit record: %w", err)
		}
		if rec.Erased || rec.State == edge.DepositOnShelf || !rec.ClosedAt.Before(cutoff) ||
			!acks.acked(rec.Parcel.Seq) || !acks.acked(rec.ClosedSeq) {
			continue
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// oldInstore returns the seqs of the acked in-store returns that occurred
// before cutoff, from where the last Scrub stopped, and the seq the next
// one starts from: the first it could not scrub yet (too recent, or not
// acked).
func (j *Journal) oldInstore(txn *badger.Txn, cutoff time.Time, acks ackSet) (seqs []uint64, next uint64, err error) {
	next = 1
	if item, err := txn.Get(keyScrubbed); err == nil {
		if err := item.Value(func(v []byte) error { next = max(getU64(v), 1); return nil }); err != nil {
			return nil, 0, err
		}
	}
	last := j.LastSeq()
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOp, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Seek(seqKey(prefixOp, next)); it.Valid(); it.Next() {
		seq := keySeq(it.Item().Key())
		if seq > last {
			break
		}
		var op struct {
			Type       edge.OpType `json:"type"`
			OccurredAt time.Time   `json:"occurred_at"`
		}
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
			return nil, 0, fmt.Errorf("decode operation %d: %w", seq, err)
		}
		if !op.OccurredAt.Before(cutoff) || !acks.acked(seq) {
			return seqs, seq, nil
		}
		if op.Type == edge.OpInstoreReceived {
			seqs = append(seqs, seq)
		}
		next = seq + 1
	}
	return seqs, next, nil
}

// scrubOp rewrites the operation seq without the fields scrubbedFields
// names for its type; it reports whether it changed anything. An operation
// compacted away is no error.
func scrubOp(txn *badger.Txn, seq uint64) (bool, error) {
	item, err := txn.Get(seqKey(prefixOp, seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var op edge.Operation
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
		return false, fmt.Errorf("decode operation %d: %w", seq, err)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(op.Data, &data); err != nil {
		return false, fmt.Errorf("decode data of operation %d: %w", seq, err)
	}
	changed := false
	for _, f := range scrubbedFields[op.Type] {
		if _, ok := data[f]; ok {
			delete(data, f)
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	if op.Data, err = json.Marshal(data); err != nil {
		return false, err
	}
	raw, err := json.Marshal(op)
	if err != nil {
		return false, err
	}
	return true, txn.Set(seqKey(prefixOp, seq), raw)
}

// jobsByOperation returns the print jobs by the id of their operation,
// without their data. Scrub deletes those of a scrubbed deposit, printed or
// not: a label or receipt still waiting long after its parcel left is of
// no use.
func jobsByOperation(txn *badger.Txn) (map[string][]edge.PrintJob, error) {
	jobs := map[string][]edge.PrintJob{}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixJob, PrefetchValues: true, PrefetchSize: 16})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var job edge.PrintJob
		if err := it.Item().Value(func(v []byte) error { return decodeJobMeta(v, &job) }); err != nil {
			return nil, fmt.Errorf("decode print job: %w", err)
		}
		jobs[job.OperationID] = append(jobs[job.OperationID], job)
	}
	return jobs, nil
}
