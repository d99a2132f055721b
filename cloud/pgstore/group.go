package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
)

// storeGroup stores a group of batches in tx in a few round trips
// (issue 13: the state checks took a quarter of PostgreSQL's ingest, a
// round trip or more per statement of each batch). The group runs in
// waves, each of which has a terminal once, in three round trips: every
// terminal's watermark locked and the seqs above it read (lockWatermarks:
// one pipeline), the parcels of every chain locked (lockParcels: one
// statement, sorted), then every batch's writes (writeChain, conflicts)
// in one pipeline. A terminal's second batch in the group (two in
// flight) is in the next wave, which sees the first's writes. The last
// wave's pipeline also inserts the group's outbox rows (whose steps of
// returns' parcels the returns insight folds later).
//
// All groups take their watermark locks in the order of the terminals,
// then their parcels' in the order of the trackings, the same in every
// transaction: they wait for one another rather than deadlock. A second
// wave, or a chain that passes events of earlier batches (readBack),
// takes parcel locks after that order; a deadlock then runs the group
// again (commit).
func storeGroup(ctx context.Context, tx pgx.Tx, group []*pgWrite, insight bool) error {
	parcels := map[string]cloud.Parcel{} // as the group's batches so far left them
	var keep []*params                   // sent by the pipeline, released after it
	defer func() {
		for _, p := range keep {
			p.release()
		}
	}()
	for rest := group; len(rest) > 0; {
		var wave []*pgWrite
		wave, rest = nextWave(rest)
		pl := newPipeline()
		if err := storeWave(ctx, tx, wave, parcels, pl, &keep); err != nil {
			return err
		}
		if len(rest) == 0 {
			// The events that flow out (outbox.go), with the last wave's
			// writes: the returns insight's fold reads its steps there.
			if p := outboxParams(groupOut(group), insight); p != nil {
				keep = append(keep, p)
				if err := pl.add(ctx, tx, insertOutbox, p, nil); err != nil {
					return err
				}
			}
		}
		if err := pl.run(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// nextWave splits group (sorted by terminal) into its first batch of each
// terminal and the others, in their order.
func nextWave(group []*pgWrite) (wave, rest []*pgWrite) {
	for i, w := range group {
		if i > 0 && w.tid == group[i-1].tid {
			rest = append(rest, w)
		} else {
			wave = append(wave, w)
		}
	}
	return wave, rest
}

// storeWave locks the watermarks of a wave's terminals and the parcels of
// their chains, checks each chain against parcels (then updated with what
// it changed, for the next chains) and queues its writes in pl, their
// parameters appended to keep. Events not stored are recorded as aliases
// at once (a round trip, for resends only).
func storeWave(ctx context.Context, tx pgx.Tx, wave []*pgWrite, parcels map[string]cloud.Parcel, pl *pipeline, keep *[]*params) error {
	wms, aboves, err := lockWatermarks(ctx, tx, wave)
	if err != nil {
		return err
	}
	chains := make([]*chain, len(wave))
	var trackings []string
	for i, w := range wave {
		c := w.chain(wms[i], aboves[i])
		if err := c.readBack(ctx, tx, w.tid); err != nil {
			return err
		}
		chains[i] = c
		for _, tr := range c.trackings(nil) {
			if _, ok := parcels[tr]; !ok {
				trackings = append(trackings, tr)
			}
		}
	}
	locked, err := lockTrackings(ctx, tx, trackings)
	if err != nil {
		return err
	}
	for tr, p := range locked {
		parcels[tr] = p
	}
	for i, w := range wave {
		c, wm := chains[i], wms[i]
		c.parcels = parcels // read before this chain's changes are merged below
		c.apply(w.received)
		ev := w.newRows(wm, aboves[i], c.rowStatuses())
		stored := make(map[int64]bool, len(ev.seqs))
		for _, q := range ev.seqs {
			stored[q] = true
		}
		if err := w.recordAliases(ctx, tx, stored); err != nil {
			return err
		}
		if p := c.writeParams(w.tid, wm, w.received, ev); p != nil {
			*keep = append(*keep, p)
			if err := pl.add(ctx, tx, writeChain, p, writeErr); err != nil {
				return err
			}
		}
		if p := conflictParams(c.conflicts); p != nil {
			*keep = append(*keep, p)
			if err := pl.add(ctx, tx, insertConflicts, p, nil); err != nil {
				return err
			}
		}
		w.settle(c, len(ev.seqs))
		for tr, p := range c.next {
			p.Tracking = tr
			parcels[tr] = p
		}
	}
	return nil
}

// lockWatermarks locks the watermarks of the batches' terminals, in their
// order, and reads the seqs stored above each (lockWatermark then
// seqsAbove, for each batch), in one round trip: each batch's watermark
// and seqs above it.
func lockWatermarks(ctx context.Context, tx pgx.Tx, ws []*pgWrite) ([]int64, [][]seqAbove, error) {
	b := &pgx.Batch{}
	for _, w := range ws {
		b.Queue(lockWatermark, w.tid)
		b.Queue(seqsAbove, w.tid)
	}
	br := tx.SendBatch(ctx, b)
	wms, aboves := make([]int64, len(ws)), make([][]seqAbove, len(ws))
	for i := range ws {
		if err := br.QueryRow().Scan(&wms[i]); err != nil {
			br.Close()
			return nil, nil, err
		}
		rows, err := br.Query()
		if err == nil {
			aboves[i], err = pgx.CollectRows(rows, pgx.RowToStructByPos[seqAbove])
		}
		if err != nil {
			br.Close()
			return nil, nil, err
		}
	}
	return wms, aboves, br.Close()
}
