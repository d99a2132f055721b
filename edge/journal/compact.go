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

// compactChunk bounds the keys one transaction of Compact deletes.
const compactChunk = 4096

// Compact deletes the operations the cloud has acked that occurred more than
// retain ago, and the print jobs done more than retain ago, then runs Badger's
// value-log GC and, when it deleted anything, erases it from the disk
// (erase). Unacked operations are never deleted, however old. The last
// seq is kept apart, so seqs go on after the whole history is compacted. It
// returns the number of operations deleted.
func (j *Journal) Compact(ctx context.Context, retain time.Duration) (int, error) {
	cutoff := time.Now().Add(-retain)
	deleted := 0
	for from := uint64(1); ; {
		keys, next, err := j.oldOps(ctx, from, cutoff)
		if err != nil {
			return deleted, fmt.Errorf("journal compact: %w", err)
		}
		if len(keys) > 0 {
			if err := j.write(ctx, false, func() error { return j.deleteKeys(keys) }); err != nil {
				return deleted, fmt.Errorf("journal compact: %w", err)
			}
			deleted += len(keys)
		}
		if next == 0 {
			break
		}
		from = next
	}
	jobs, err := j.compactJobs(ctx, cutoff)
	if err != nil {
		return deleted, fmt.Errorf("journal compact: %w", err)
	}
	// The GC rewrites live values of mostly dead value-log files; run it
	// in the writer so that its writes do not land between a batch's
	// commit and its sync. ErrNoRewrite just means nothing was worth it.
	err = j.write(ctx, false, func() error {
		for {
			if err := j.db.RunValueLogGC(0.5); err != nil {
				if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
					return nil
				}
				return err
			}
		}
	})
	if err != nil {
		return deleted, fmt.Errorf("journal compact: value log gc: %w", err)
	}
	if deleted > 0 || jobs > 0 {
		if err := j.erase(ctx); err != nil {
			return deleted, fmt.Errorf("journal compact: erase: %w", err)
		}
	}
	j.logger.Info("journal compacted", "operations", deleted, "print_jobs", jobs, "retain", retain)
	return deleted, nil
}

// erase makes what Compact deleted leave the disk. A Badger delete only
// writes a tombstone: the deleted values stay readable, as older versions,
// in the memtable, its write-ahead log and the tables, until a compaction
// of the last level drops them, which on a journal of a few megabytes may
// never come. So erase flushes the memtables (DropPrefix of a key written
// for the purpose: Badger flushes them only to drop a prefix that has
// keys), which removes their write-ahead logs, then compacts every level
// into the last one (Flatten), which drops tombstones and the versions
// under them. The flush runs in the writer, since DropPrefix refuses
// writes while it works; Flatten runs beside the appends.
func (j *Journal) erase(ctx context.Context) error {
	err := j.write(ctx, false, func() error {
		err := j.db.Update(func(txn *badger.Txn) error { return txn.Set(keyErase, nil) })
		if err != nil {
			return err
		}
		return j.db.DropPrefix(keyErase)
	})
	if err != nil {
		return err
	}
	return j.db.Flatten(1)
}

// oldOps returns the keys of up to compactChunk acked operations from seq
// from on that occurred before cutoff, and the seq to go on from (0 when
// done). Operations are appended in time order, near enough, so the scan
// stops at the first one at or after cutoff.
func (j *Journal) oldOps(ctx context.Context, from uint64, cutoff time.Time) (keys [][]byte, next uint64, err error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	last := j.LastSeq()
	j.mu.Lock()
	acks := j.acks
	j.mu.Unlock()
	err = j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOp, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Seek(seqKey(prefixOp, from)); it.Valid(); it.Next() {
			seq := keySeq(it.Item().Key())
			if seq > last {
				return nil
			}
			if len(keys) == compactChunk {
				next = seq
				return nil
			}
			var op struct {
				OccurredAt time.Time `json:"occurred_at"`
			}
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
				return fmt.Errorf("decode operation %d: %w", seq, err)
			}
			if !op.OccurredAt.Before(cutoff) {
				return nil
			}
			if !acks.acked(seq) {
				continue // not acked yet: kept
			}
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	return keys, next, err
}

// compactJobs deletes the print jobs done before cutoff.
func (j *Journal) compactJobs(ctx context.Context, cutoff time.Time) (int, error) {
	var ids []string
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixJob, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var job edge.PrintJob
			if err := it.Item().Value(func(v []byte) error { return decodeJobMeta(v, &job) }); err != nil {
				return fmt.Errorf("decode print job: %w", err)
			}
			if job.State == edge.JobDone && job.UpdatedAt.Before(cutoff) {
				ids = append(ids, job.ID)
			}
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	deleted := 0
	err = j.write(ctx, false, func() error {
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), compactChunk)]
			ids = ids[len(chunk):]
			err := j.db.Update(func(txn *badger.Txn) error {
				for _, id := range chunk {
					// A reprint may have made the job pending again since
					// the scan: check again in the writer.
					job, ok, err := getJob(txn, id)
					if err != nil {
						return err
					}
					if !ok || job.State != edge.JobDone || !job.UpdatedAt.Before(cutoff) {
						continue
					}
					if err := txn.Delete(strKey(prefixJob, id)); err != nil {
						return err
					}
					deleted++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return deleted, err
}

// deleteKeys deletes keys in transactions of at most compactChunk keys.
func (j *Journal) deleteKeys(keys [][]byte) error {
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), compactChunk)]
		keys = keys[len(chunk):]
		err := j.db.Update(func(txn *badger.Txn) error {
			for _, k := range chunk {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
