package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// The shelf projection: a return.deposited puts a parcel on the shelf (its
// entry under sh/<seq>, indexed by deposit id, tracking and RA id), a
// return.cancelled naming the deposit or a parcel.handed_over naming its
// tracking takes it off. The writer updates it in the same transaction as the
// operation, so the shelf always matches the journal.

// shelve puts the parcel of a deposit on the shelf.
func (b *batch) shelve(op edge.Operation, d *edge.DepositData) error {
	p := edge.ShelfParcel{
		DepositID: op.ID, Seq: op.Seq, Tracking: op.Tracking, RAID: d.RAID,
		Carrier: d.Carrier, Slot: d.ShelfSlot, WeightG: d.WeightG,
		DepositedAt: op.OccurredAt, Operator: op.Operator,
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode shelf parcel: %w", err)
	}
	seq := u64(op.Seq)
	if err := b.set(seqKey(prefixShelf, op.Seq), raw); err != nil {
		return err
	}
	b.shelf++
	if err := b.set(strKey(prefixDepIdx, p.DepositID), seq); err != nil {
		return err
	}
	if p.Tracking != "" {
		if err := b.set(strKey(prefixTrkIdx, p.Tracking), seq); err != nil {
			return err
		}
	}
	if p.RAID != "" {
		if err := b.set(strKey(prefixRAIdx, p.RAID), seq); err != nil {
			return err
		}
	}
	if p.Slot != "" {
		if err := b.set(strKey(prefixSlotIdx, p.Slot), seq); err != nil {
			return err
		}
	}
	return b.putDeposit(edge.DepositRecord{Parcel: p, State: edge.DepositOnShelf})
}

// unshelve takes off the shelf the parcel that index idx maps key to, if
// any, and records that op did it. The transaction reads its own pending
// writes, so a deposit and its handover in one batch cancel out.
func (b *batch) unshelve(idx []byte, key string, op edge.Operation, state edge.DepositState) error {
	p, ok, err := shelfLookup(b.txn, idx, key)
	if err != nil || !ok {
		return err
	}
	if err := b.txn.Delete(seqKey(prefixShelf, p.Seq)); err != nil {
		return err
	}
	b.shelf--
	for _, ix := range []struct {
		prefix []byte
		key    string
	}{{prefixDepIdx, p.DepositID}, {prefixTrkIdx, p.Tracking}, {prefixRAIdx, p.RAID}, {prefixSlotIdx, p.Slot}} {
		if ix.key == "" {
			continue
		}
		// An index may point to a later deposit of the same parcel; only
		// an entry that points to this one goes.
		k := strKey(ix.prefix, ix.key)
		if seq, err := getSeq(b.txn, k); err != nil {
			return err
		} else if seq == p.Seq {
			if err := b.txn.Delete(k); err != nil {
				return err
			}
		}
	}
	return b.putDeposit(edge.DepositRecord{Parcel: p, State: state, ClosedSeq: op.Seq, ClosedAt: op.OccurredAt})
}

// shelfLookup returns the shelf parcel that index idx maps key to.
func shelfLookup(txn *badger.Txn, idx []byte, key string) (edge.ShelfParcel, bool, error) {
	seq, err := getSeq(txn, strKey(idx, key))
	if err != nil || seq == 0 {
		return edge.ShelfParcel{}, false, err
	}
	item, err := txn.Get(seqKey(prefixShelf, seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return edge.ShelfParcel{}, false, nil
	} else if err != nil {
		return edge.ShelfParcel{}, false, err
	}
	var p edge.ShelfParcel
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
		return edge.ShelfParcel{}, false, fmt.Errorf("decode shelf parcel %d: %w", seq, err)
	}
	return p, true, nil
}

// getSeq reads a seq stored under k; 0 when k is absent.
func getSeq(txn *badger.Txn, k []byte) (uint64, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var seq uint64
	err = item.Value(func(v []byte) error { seq = getU64(v); return nil })
	return seq, err
}

// FindDeposit returns the shelf entry of a deposit on the shelf whose RA id
// equals raID (when not empty) or whose tracking equals tracking (when not
// empty).
func (j *Journal) FindDeposit(ctx context.Context, raID, tracking string) (p edge.ShelfParcel, found bool, err error) {
	if err := ctxErr(ctx, "find deposit"); err != nil {
		return p, false, err
	}
	err = j.db.View(func(txn *badger.Txn) error {
		if raID != "" {
			if p, found, err = shelfLookup(txn, prefixRAIdx, raID); err != nil || found {
				return err
			}
		}
		if tracking != "" {
			p, found, err = shelfLookup(txn, prefixTrkIdx, tracking)
		}
		return err
	})
	if err != nil {
		return edge.ShelfParcel{}, false, fmt.Errorf("journal find deposit: %w", err)
	}
	return p, found, nil
}

// Shelf returns the parcels on the shelf, oldest first.
func (j *Journal) Shelf(ctx context.Context) ([]edge.ShelfParcel, error) {
	if err := ctxErr(ctx, "shelf"); err != nil {
		return nil, err
	}
	shelf := []edge.ShelfParcel{}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixShelf, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var p edge.ShelfParcel
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
				return fmt.Errorf("decode shelf parcel: %w", err)
			}
			shelf = append(shelf, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal shelf: %w", err)
	}
	return shelf, nil
}

// ShelfCount returns how many parcels are on the shelf, from the count the
// writer keeps (see Journal.shelf).
func (j *Journal) ShelfCount(ctx context.Context) (int, error) {
	if err := ctxErr(ctx, "shelf count"); err != nil {
		return 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.shelf, nil
}

// ShelfSlots returns the shelf slots taken, reading index keys only: the
// Desk asks for them on every deposit, and decoding every parcel on a full
// shelf would cost milliseconds.
func (j *Journal) ShelfSlots(ctx context.Context) ([]string, error) {
	if err := ctxErr(ctx, "shelf slots"); err != nil {
		return nil, err
	}
	slots := []string{}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixSlotIdx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			slots = append(slots, string(it.Item().Key()[len(prefixSlotIdx):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal shelf slots: %w", err)
	}
	return slots, nil
}
