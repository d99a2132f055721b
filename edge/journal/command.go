package journal

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// CommandApplied reports whether a command.applied of the cloud command id
// is journalled, so that a command delivered again (QoS 1 delivers at least
// once, across restarts too) is applied only once. The index outlives
// compaction of the operation itself.
func (j *Journal) CommandApplied(ctx context.Context, id string) (bool, error) {
	if err := ctxErr(ctx, "command applied"); err != nil {
		return false, err
	}
	var found bool
	err := j.db.View(func(txn *badger.Txn) (err error) {
		found, err = keyExists(txn, strKey(prefixCommand, id))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("journal command applied: %w", err)
	}
	return found, nil
}
