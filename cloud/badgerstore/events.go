package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// storedEvent is an event as kept under s/: the operation and when the cloud
// received it.
type storedEvent struct {
	Op         edge.Operation `json:"op"`
	ReceivedAt time.Time      `json:"received_at"`
}

// maxTrackingLen bounds the tracking numbers that get a timeline, so that a
// terminal's odd payload cannot make huge keys.
const maxTrackingLen = 128

func eventKey(id string) []byte { return append([]byte("e/"), id...) }

func seqKey(tid string, seq uint64) []byte {
	return be8(append([]byte("s/"+tid), '/'), seq)
}

func watermarkKey(tid string) []byte { return []byte("w/" + tid) }

func timelinePrefix(tracking string) []byte { return append([]byte("t/"+tracking), 0) }

func timelineKey(tracking string, e cloud.TimelineEntry) []byte {
	k := timelinePrefix(tracking)
	k = be8(k, timeKey(e.OccurredAt))
	k = be8(k, timeKey(e.ReceivedAt))
	return append(k, e.EventID...)
}

// validTracking reports whether a tracking number can key a timeline.
func validTracking(t string) bool {
	return t != "" && len(t) <= maxTrackingLen && !bytes.ContainsAny([]byte(t), "\x00/")
}

// StoreEvents implements cloud.Store. The events go through the group
// commit (commitLoop): batches stored at the same moment by several callers
// share one transaction and so one WAL sync.
func (s *Store) StoreEvents(ctx context.Context, tid string, events []edge.Operation, receivedAt time.Time) (cloud.Ingested, error) {
	for i, ev := range events {
		if ev.ID == "" || ev.Seq == 0 || ev.Terminal != tid {
			return cloud.Ingested{}, edge.Errorf(edge.EINVALID, "Event %d lacks an id or a seq, or names another terminal than %q.", i, tid)
		}
	}
	// Keys and values are made here, by the callers at once, so that the
	// commit loop, which runs one group at a time, only looks up and sets.
	w := &eventsWrite{tid: tid, events: make([]preparedEvent, len(events))}
	for i, ev := range events {
		p, err := prepare(tid, ev, receivedAt)
		if err != nil {
			return cloud.Ingested{}, fmt.Errorf("badgerstore: store events: %w", err)
		}
		w.events[i] = p
	}
	if err := s.group.Do(ctx, w); err != nil {
		return cloud.Ingested{}, fmt.Errorf("badgerstore: store events: %w", err)
	}
	return w.res, nil
}

// eventsWrite is one StoreEvents call waiting for the group commit.
type eventsWrite struct {
	tid    string
	events []preparedEvent
	res    cloud.Ingested
}

// preparedEvent is an event's keys and values, ready to be set.
type preparedEvent struct {
	seq         uint64
	sk, value   []byte // s/ key, stored event
	ek, ekValue []byte // e/ key, {tid}/{seq}
	timeline    []byte // t/ key, or nil when the event marks no status
}

// prepare makes the keys and values of ev.
func prepare(tid string, ev edge.Operation, receivedAt time.Time) (preparedEvent, error) {
	value, err := json.Marshal(storedEvent{Op: ev, ReceivedAt: receivedAt.UTC()})
	if err != nil {
		return preparedEvent{}, err
	}
	p := preparedEvent{
		seq: ev.Seq, sk: seqKey(tid, ev.Seq), value: value,
		ek: eventKey(ev.ID), ekValue: []byte(tid + "/" + strconv.FormatUint(ev.Seq, 10)),
	}
	// The timeline entry of a terminal's event refers to the event (its s/
	// key) rather than repeating it: a third of the bytes an event writes,
	// and the write path's cost goes with its bytes. Timeline derives the
	// entry back.
	if e, ok := cloud.EntryOf(ev, receivedAt); ok && validTracking(ev.Tracking) {
		p.timeline = timelineKey(ev.Tracking, e)
	}
	return p, nil
}

// maxGroupEvents bounds the events of one group transaction, far below
// Badger's largest transaction (15 % of a 64 MB memtable; an event takes
// about 1 KB and 3 entries).
const maxGroupEvents = 4096

// commit stores a group of StoreEvents calls in one transaction: Badger
// syncs its WAL once per transaction (SyncWrites), and that sync is most of
// the cost of a small batch (cloud.GroupCommit).
func (s *Store) commit(group []*eventsWrite) error {
	return s.update(context.Background(), func(txn *badger.Txn) error {
		for _, w := range group {
			w.res = cloud.Ingested{}
			// A terminal twice in the group: its second write reads the
			// first's watermark from the transaction's own writes.
			wm, err := watermark(txn, w.tid)
			if err != nil {
				return err
			}
			for _, ev := range w.events {
				// Every seq up to the watermark is stored: a resend below
				// it is known a duplicate without a lookup.
				dup := ev.seq <= wm
				if !dup {
					if dup, err = storeEvent(txn, ev); err != nil {
						return err
					}
				}
				if dup {
					w.res.Duplicates++
				} else {
					w.res.Stored++
				}
			}
			if w.res.AckedSeq, err = advanceWatermark(txn, w.tid, wm); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeEvent stores one event unless it is stored already, by id or by
// terminal and seq.
func storeEvent(txn *badger.Txn, ev preparedEvent) (dup bool, err error) {
	if ok, err := exists(txn, ev.sk); err != nil || ok {
		return true, err
	}
	idSeen, err := exists(txn, ev.ek)
	if err != nil {
		return false, err
	}
	// An id already stored under another seq is a terminal's bug (a reset
	// journal, say): the seq is recorded so that the watermark moves on and
	// the terminal stops resending, but the event counts once.
	if err := txn.Set(ev.sk, ev.value); err != nil {
		return false, err
	}
	if idSeen {
		return true, nil
	}
	if err := txn.Set(ev.ek, ev.ekValue); err != nil {
		return false, err
	}
	if ev.timeline != nil {
		if err := txn.Set(ev.timeline, ev.sk); err != nil {
			return false, err
		}
	}
	return false, nil
}

// advanceWatermark moves the terminal's watermark, wm, over every seq
// stored right above it, and returns it. Seqs stored out of order wait under s/
// until the gap below them fills.
func advanceWatermark(txn *badger.Txn, tid string, wm uint64) (uint64, error) {
	start := wm
	for {
		ok, err := exists(txn, seqKey(tid, wm+1))
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		wm++
	}
	if wm != start {
		if err := txn.Set(watermarkKey(tid), be8(nil, wm)); err != nil {
			return 0, err
		}
	}
	return wm, nil
}

func watermark(txn *badger.Txn, tid string) (uint64, error) {
	item, err := txn.Get(watermarkKey(tid))
	if err == badger.ErrKeyNotFound {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var wm uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("watermark of %s: %d bytes", tid, len(b))
		}
		wm = binary.BigEndian.Uint64(b)
		return nil
	})
	return wm, err
}

// AddTimelineEntry implements cloud.Store.
func (s *Store) AddTimelineEntry(ctx context.Context, tracking string, e cloud.TimelineEntry) (bool, error) {
	if !validTracking(tracking) || e.EventID == "" || !e.Status.Valid() {
		return false, edge.Errorf(edge.EINVALID, "A timeline entry needs a tracking number, an event id and a known status.")
	}
	var added bool
	err := s.update(ctx, func(txn *badger.Txn) error {
		added = false
		xk := append([]byte("x/"), e.EventID...)
		if ok, err := exists(txn, xk); err != nil || ok {
			return err
		}
		if err := txn.Set(xk, nil); err != nil {
			return err
		}
		added = true
		return setJSON(txn, timelineKey(tracking, e), e)
	})
	if err != nil {
		return false, fmt.Errorf("badgerstore: add timeline entry: %w", err)
	}
	return added, nil
}

// Timeline implements cloud.Store. Keys sort by occurred_at then
// received_at, so the iteration order is the timeline's.
func (s *Store) Timeline(ctx context.Context, tracking string) ([]cloud.TimelineEntry, error) {
	out := []cloud.TimelineEntry{}
	if !validTracking(tracking) {
		return out, nil
	}
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := timelinePrefix(tracking)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			e, err := timelineEntry(txn, v)
			if err != nil {
				return fmt.Errorf("%s: %w", it.Item().Key(), err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: timeline: %w", err)
	}
	return out, nil
}

// timelineEntry decodes the value of a t/ key: the entry's JSON (entries
// added through AddTimelineEntry), or the s/ key of the terminal's event
// the entry comes from.
func timelineEntry(txn *badger.Txn, v []byte) (cloud.TimelineEntry, error) {
	var e cloud.TimelineEntry
	if bytes.HasPrefix(v, []byte("{")) {
		return e, json.Unmarshal(v, &e)
	}
	var se storedEvent
	if found, err := getJSON(txn, v, &se); err != nil {
		return e, err
	} else if !found {
		return e, fmt.Errorf("event %q of the timeline is missing", v)
	}
	e, ok := cloud.EntryOf(se.Op, se.ReceivedAt)
	if !ok {
		return e, fmt.Errorf("event %q marks no status", v)
	}
	return e, nil
}
