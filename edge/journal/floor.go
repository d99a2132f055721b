package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// LastOperationTime returns the time of the last operation still in the
// journal (zero when there is none): the floor of the counter's trusted
// clock (edge.TrustedClock). Compaction may have deleted every operation of
// a terminal left idle past the retention period; the floor is then zero,
// and the system clock is believed as before.
func (j *Journal) LastOperationTime(ctx context.Context) (time.Time, error) {
	if err := ctxErr(ctx, "last operation time"); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOp, Reverse: true, PrefetchValues: false})
		defer it.Close()
		it.Seek(seqKey(prefixOp, math.MaxUint64))
		if !it.Valid() {
			return nil
		}
		var op edge.Operation
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
			return fmt.Errorf("decode operation: %w", err)
		}
		at = op.OccurredAt
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("journal last operation time: %w", err)
	}
	return at, nil
}
