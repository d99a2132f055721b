package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// The refusals report (issue 15) is answered from counters per day (UTC)
// of occurrence, terminal and reason, kept by the commit loop as the
// watermark passes each return.refused (folded from the records, as the
// statements' counters are: statements.go):
//
//	R/{day:8}{tid}\x00{reason}   -> {count:8}

const refusalsPrefix = "R/"

func refusalKey(day time.Time, tid, reason string) []byte {
	return append(be8([]byte(refusalsPrefix), timeKey(day)), tid+"\x00"+reason...)
}

// refusal counts op, a return.refused the watermark just passed.
func (in *insight) refusal(op edge.Operation) {
	key := string(refusalKey(op.OccurredAt.UTC().Truncate(24*time.Hour), op.Terminal, cloud.RefusalReason(op.Data)))
	if in.refusals == nil {
		in.refusals = map[string]uint64{}
	}
	in.refusals[key]++
}

// addRefusals adds the refusals gathered (by key) to the stored
// counters, when records are folded (insightlog.go).
func addRefusals(txn *badger.Txn, refusals map[string]uint64) error {
	for key, n := range refusals {
		var stored uint64
		err := readValue(txn, []byte(key), func(b []byte) error {
			if len(b) != 8 {
				return fmt.Errorf("refusal counter %q: %d bytes", key, len(b))
			}
			stored = binary.BigEndian.Uint64(b)
			return nil
		})
		if err != nil {
			return err
		}
		if err := txn.Set([]byte(key), be8(nil, stored+n)); err != nil {
			return err
		}
	}
	return nil
}

// RefusalCounts implements cloud.Store: the counters of the days from
// from to to, summed by terminal and reason.
func (s *Store) RefusalCounts(ctx context.Context, from, to time.Time) ([]cloud.RefusalRow, error) {
	if err := s.fold(ctx); err != nil { // the records waiting count too
		return nil, err
	}
	sums := map[string]int64{}
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := []byte(refusalsPrefix)
		end := be8(prefix, timeKey(to))
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(be8(prefix, timeKey(from))); it.Valid() && bytes.Compare(it.Item().Key(), end) < 0; it.Next() {
			key := string(it.Item().Key()[len(prefix)+8:])
			err := it.Item().Value(func(b []byte) error {
				if len(b) != 8 {
					return fmt.Errorf("refusal counter %q: %d bytes", key, len(b))
				}
				sums[key] += int64(binary.BigEndian.Uint64(b))
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: refusal counts: %w", err)
	}
	rows := make([]cloud.RefusalRow, 0, len(sums))
	for k, n := range sums {
		tid, reason, _ := strings.Cut(k, "\x00")
		rows = append(rows, cloud.RefusalRow{RelayPoint: tid, Reason: reason, Refusals: n})
	}
	cloud.SortRefusals(rows)
	return rows, nil
}
