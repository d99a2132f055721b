package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// The deposits projection keeps a record of every deposit under
// dd/<deposit id>, written with the deposit and rewritten by the operation
// that takes the parcel off the shelf, so that a cancellation after a
// handover is told apart from an unknown deposit. dt/<tracking> names the
// last deposit of a tracking number, and ir/<ra id> the in-store returns.
// Compact leaves them: a record is a few hundred bytes per parcel.

// putDeposit writes rec and points its tracking number at it.
func (b *batch) putDeposit(rec edge.DepositRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode deposit record: %w", err)
	}
	if err := b.set(strKey(prefixDeposit, rec.Parcel.DepositID), raw); err != nil {
		return err
	}
	if rec.Parcel.Tracking != "" && rec.State == edge.DepositOnShelf {
		return b.set(strKey(prefixDepTrk, rec.Parcel.Tracking), []byte(rec.Parcel.DepositID))
	}
	return nil
}

func getDeposit(txn *badger.Txn, id string) (edge.DepositRecord, bool, error) {
	var rec edge.DepositRecord
	item, err := txn.Get(strKey(prefixDeposit, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return rec, false, nil
	} else if err != nil {
		return rec, false, err
	}
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
		return rec, false, fmt.Errorf("decode deposit record %s: %w", id, err)
	}
	return rec, true, nil
}

// DepositByID returns the record of the deposit whose operation id is id;
// ENOTFOUND when there is none.
func (j *Journal) DepositByID(ctx context.Context, id string) (edge.DepositRecord, error) {
	if err := ctxErr(ctx, "deposit"); err != nil {
		return edge.DepositRecord{}, err
	}
	var rec edge.DepositRecord
	var found bool
	err := j.db.View(func(txn *badger.Txn) (err error) {
		rec, found, err = getDeposit(txn, id)
		return err
	})
	if err != nil {
		return edge.DepositRecord{}, fmt.Errorf("journal deposit: %w", err)
	} else if !found {
		return edge.DepositRecord{}, edge.Errorf(edge.ENOTFOUND, "No deposit %q.", id)
	}
	return rec, nil
}

// DepositByTracking returns the record of the last deposit of tracking.
func (j *Journal) DepositByTracking(ctx context.Context, tracking string) (rec edge.DepositRecord, found bool, err error) {
	if err := ctxErr(ctx, "deposit by tracking"); err != nil {
		return rec, false, err
	}
	err = j.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(strKey(prefixDepTrk, tracking))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		id, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		rec, found, err = getDeposit(txn, string(id))
		return err
	})
	if err != nil {
		return edge.DepositRecord{}, false, fmt.Errorf("journal deposit by tracking: %w", err)
	}
	return rec, found, nil
}

// InstoreReceived reports whether an instore.received of raID is journalled.
func (j *Journal) InstoreReceived(ctx context.Context, raID string) (bool, error) {
	if err := ctxErr(ctx, "instore received"); err != nil {
		return false, err
	}
	var found bool
	err := j.db.View(func(txn *badger.Txn) (err error) {
		found, err = keyExists(txn, strKey(prefixInstore, raID))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("journal instore received: %w", err)
	}
	return found, nil
}

func keyExists(txn *badger.Txn, k []byte) (bool, error) {
	_, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// History returns the operations matching q with seq > q.After, at most
// q.Limit of them (0: all), in seq order, and the After of the next page.
// It scans the history, which Compact keeps short on a terminal.
func (j *Journal) History(ctx context.Context, q edge.HistoryQuery) (edge.HistoryPage, error) {
	if err := ctxErr(ctx, "history"); err != nil {
		return edge.HistoryPage{}, err
	}
	last := j.LastSeq()
	page := edge.HistoryPage{Operations: []edge.Operation{}}
	if q.After >= last {
		return page, nil
	}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOp, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Seek(seqKey(prefixOp, q.After+1)); it.Valid(); it.Next() {
			seq := keySeq(it.Item().Key())
			if seq > last {
				break
			}
			if q.Limit > 0 && len(page.Operations) >= q.Limit {
				page.Next = page.Operations[len(page.Operations)-1].Seq
				break
			}
			var op edge.Operation
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
				return fmt.Errorf("decode operation %d: %w", seq, err)
			}
			if q.Match(op) {
				page.Operations = append(page.Operations, op)
			}
		}
		return nil
	})
	if err != nil {
		return edge.HistoryPage{}, fmt.Errorf("journal history: %w", err)
	}
	return page, nil
}
