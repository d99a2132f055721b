package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func eventKey(id string) []byte { return append([]byte("e/"), id...) }

func seqKey(tid string, seq uint64) []byte {
	return appendSeqKey(make([]byte, 0, seqKeyLen(tid)), tid, seq)
}

// appendSeqKey appends the s/ key of tid and seq to dst.
func appendSeqKey(dst []byte, tid string, seq uint64) []byte {
	return be8(append(append(append(dst, "s/"...), tid...), '/'), seq)
}

func seqKeyLen(tid string) int { return len("s/") + len(tid) + len("/") + 8 }

func watermarkKey(tid string) []byte { return []byte("w/" + tid) }

func timelinePrefix(tracking string) []byte { return append([]byte("t/"+tracking), 0) }

func timelineKey(tracking string, e cloud.TimelineEntry) []byte {
	k := timelinePrefix(tracking)
	k = be8(k, timeKey(e.OccurredAt))
	k = be8(k, timeKey(e.ReceivedAt))
	return append(k, e.EventID...)
}

// StoreEvents implements cloud.Store. The events go through the group
// commit (commitLoop): batches stored at the same moment by several callers
// share one transaction and so one WAL sync.
func (s *Store) StoreEvents(ctx context.Context, tid string, events []edge.Operation, receivedAt time.Time) (cloud.Ingested, error) {
	for i, ev := range events {
		if err := cloud.CheckEvent(tid, i, ev); err != nil {
			return cloud.Ingested{}, err
		}
	}
	// Keys and values are made here, by the callers at once, so that the
	// commit loop, which runs one group at a time, only looks up and sets.
	// The events' keys (and the e/ values) share one allocation: eight
	// small ones an event before.
	w := &eventsWrite{tid: tid, events: make([]preparedEvent, len(events))}
	size := 0
	for _, ev := range events {
		size += keysLen(tid, ev)
	}
	keys := make([]byte, 0, size)
	for i, ev := range events {
		p, err := prepare(tid, ev, receivedAt, &keys)
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
	tid     string
	events  []preparedEvent
	res     cloud.Ingested
	out     *outTxn  // the outbox of the group's transaction
	insight *insight // of the group's transaction (issue 15)
}

// preparedEvent is an event's keys and values, ready to be set.
type preparedEvent struct {
	op          edge.Operation
	raID        string // cloud.RAIDOf(op)
	newParcel   []byte // the p/ value when op makes its parcel, or nil
	received    time.Time
	seq         uint64
	sk, value   []byte // s/ key, stored event
	ek, ekValue []byte // e/ key, {tid}/{seq}
	// timeline: the event marks a status of a parcel, and goes on its
	// timeline (its s/ key kept by the parcel) if it agrees with it.
	timeline bool
}

// keysLen is the most bytes prepare appends to its keys for ev: its s/
// key, its e/ key and the e/ value, whose seq has at most 20 digits.
func keysLen(tid string, ev edge.Operation) int {
	return seqKeyLen(tid) + len("e/") + len(ev.ID) + len(tid) + len("/") + 20
}

// prepare makes the keys and values of ev; its keys and e/ value are
// appended to keys (keysLen bytes at most), each a slice of its own
// capacity, which Badger keeps until the commit.
func prepare(tid string, ev edge.Operation, receivedAt time.Time, keys *[]byte) (preparedEvent, error) {
	value, err := encodeStored(ev, receivedAt.UTC())
	if err != nil {
		return preparedEvent{}, err
	}
	k := *keys
	// cut returns what k holds from start: a slice that an append to k
	// cannot overwrite.
	cut := func(start int) []byte { return k[start:len(k):len(k)] }
	start := len(k)
	k = appendSeqKey(k, tid, ev.Seq)
	sk := cut(start)
	start = len(k)
	k = append(append(k, "e/"...), ev.ID...)
	ek := cut(start)
	start = len(k)
	k = strconv.AppendUint(append(append(k, tid...), '/'), ev.Seq, 10)
	ekValue := cut(start)
	*keys = k
	p := preparedEvent{
		op: ev, received: receivedAt.UTC(), raID: cloud.RAIDOf(ev),
		seq: ev.Seq, sk: sk, value: value, ek: ek, ekValue: ekValue,
	}
	// The timeline entry of a terminal's event refers to the event (its s/
	// key, kept by the parcel) rather than repeating it: a third of the
	// bytes an event writes, and the write path's cost goes with its bytes.
	// Timeline derives the entry back.
	_, p.timeline = cloud.EntryOf(ev, receivedAt)
	p.timeline = p.timeline && cloud.ValidTracking(ev.Tracking)
	// Most deposits are the first the cloud hears of their parcel: its
	// value is made here, in parallel, rather than in the commit loop.
	if np, ok := cloud.NewParcelOf(ev, p.raID); ok && p.timeline {
		p.newParcel = encodeParcelAdding(np, nil, p.sk)
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
	events, record := 0, 0
	for _, w := range group {
		events += len(w.events)
		record += len(w.events) * (2 + seqKeyLen(w.tid)) // outTxn.terminal's reference
	}
	return s.updateOut(context.Background(), func(txn *badger.Txn, out *outTxn) error {
		// An event moves its parcel once at most, and puts one reference in
		// the outbox's record: both are made once, not grown (their
		// growth's copies were 2.7 % and 1.2 % of the store's CPU in
		// profiles).
		out.stuck = make(stuckMoves, 0, events)
		out.record = make([]byte, 0, recordHeader+record)
		in := s.newInsight() // returns insight (issue 15): the group's record, written once
		out.insight = in
		for _, w := range group {
			w.res, w.out, w.insight = cloud.Ingested{}, out, in
			// A terminal twice in the group: its second write reads the
			// first's watermark from the transaction's own writes.
			mark, err := readMark(txn, w.tid, s.marksKept)
			if err != nil {
				return err
			}
			wm, hi0 := mark.wm, mark.hi
			fresh := make(map[uint64]*preparedEvent, len(w.events))
			for i := range w.events {
				ev := &w.events[i]
				// Every seq up to the watermark is stored: a resend below
				// it is known a duplicate without a lookup; none above the
				// highest stored is (a batch that goes on from the last).
				dup := ev.seq <= wm
				if !dup {
					var alias bool
					if dup, alias, err = storeEvent(txn, *ev, ev.seq <= mark.hi, s.ids.testAndAdd(ev.op.ID)); err != nil {
						return err
					}
					if !dup && !alias {
						fresh[ev.seq] = ev
					}
					if !dup {
						mark.hi = max(mark.hi, ev.seq)
					}
				}
				if dup {
					w.res.Duplicates++
				} else {
					w.res.Stored++
				}
			}
			if w.res.AckedSeq, err = s.advanceWatermark(txn, w, mark, hi0, fresh); err != nil {
				return err
			}
		}
		return in.flush(txn)
	})
}

// storeEvent stores one event unless it is stored already, by terminal and
// seq (dup), or by id under another seq (alias: a terminal's bug, a reset
// journal; the seq is recorded so that the watermark moves on and the
// terminal stops resending, but the event counts once).
//
// maybeStored is false when ev's seq is above every seq of its terminal
// stored so far: its s/ key is then not looked up; idMaybe is false when
// the filter of ids (Store.ids) says that its id is not stored: its e/ key
// is then not looked up either.
func storeEvent(txn *badger.Txn, ev preparedEvent, maybeStored, idMaybe bool) (dup, alias bool, err error) {
	if maybeStored {
		if ok, err := exists(txn, ev.sk); err != nil || ok {
			return true, false, err
		}
	}
	idSeen := false
	if idMaybe {
		if idSeen, err = exists(txn, ev.ek); err != nil {
			return false, false, err
		}
	}
	if err := txn.Set(ev.sk, ev.value); err != nil {
		return false, false, err
	}
	if idSeen {
		return true, true, nil
	}
	return false, false, txn.Set(ev.ek, ev.ekValue)
}

// advanceWatermark moves the terminal's watermark, wm, over every seq
// stored right above it, and returns it. Seqs stored out of order wait under
// s/ until the gap below them fills. Each event the watermark passes is
// checked against its parcel then, in seq order, so that a handover resent
// ahead of its deposit waits for it instead of being a conflict: fresh
// holds the events of this batch, others are read back.
func (s *Store) advanceWatermark(txn *badger.Txn, w *eventsWrite, mark mark, hi0 uint64, fresh map[uint64]*preparedEvent) (uint64, error) {
	wm, start := mark.wm, mark.wm
	for {
		ev, ok := fresh[wm+1]
		if !ok {
			var err error
			if ev, ok, err = readBack(txn, w.tid, wm+1); err != nil {
				return 0, err
			} else if !ok {
				break
			}
		}
		wm++
		if ev == nil {
			continue // an alias: its event was checked under its first seq
		}
		conflicts := len(w.res.Conflicts)
		if err := s.applyEvent(txn, w, ev); err != nil {
			return 0, err
		}
		if s.insight {
			w.insight.statement(ev.op, len(w.res.Conflicts) == conflicts) // relay points' statements (issue 15)
		}
	}
	if wm != start || mark.hi != hi0 || !mark.hiKept {
		mark.wm = wm
		if err := txn.Set(watermarkKey(w.tid), mark.value()); err != nil {
			return 0, err
		}
	}
	return wm, nil
}

// readBack returns the stored event of tid and seq, nil (and ok) for an
// alias, and ok false when the seq is not stored.
func readBack(txn *badger.Txn, tid string, seq uint64) (*preparedEvent, bool, error) {
	sk := seqKey(tid, seq)
	se, found, err := getStored(txn, sk)
	if err != nil || !found {
		return nil, false, err
	}
	item, err := txn.Get(eventKey(se.Op.ID))
	if err != nil {
		return nil, false, err
	}
	owner, err := item.ValueCopy(nil)
	if err != nil {
		return nil, false, err
	}
	if string(owner) != tid+"/"+strconv.FormatUint(seq, 10) {
		return nil, true, nil
	}
	ev := &preparedEvent{op: se.Op, received: se.ReceivedAt, seq: seq, sk: sk, raID: cloud.RAIDOf(se.Op)}
	_, ev.timeline = cloud.EntryOf(se.Op, se.ReceivedAt)
	ev.timeline = ev.timeline && cloud.ValidTracking(se.Op.Tracking)
	return ev, true, nil
}

// applyEvent checks ev against its parcel (cloud.ApplyTerminalEvent): an
// event that agrees moves the parcel and goes on the timeline; one that
// does not is kept as a conflict.
func (s *Store) applyEvent(txn *badger.Txn, w *eventsWrite, ev *preparedEvent) error {
	_, marks := cloud.StatusOf(ev.op.Type)
	if !marks && cloud.KnownOpType(ev.op.Type) {
		return nil // a refusal, a manifest, a command: no parcel
	}
	var p cloud.Parcel
	var refs []byte // the events of its timeline
	found := false
	// A deposit that would make its parcel marks it in the filter at once
	// (one hashing, not two); should it be refused, that is only a false
	// positive.
	known := false
	if cloud.ValidTracking(ev.op.Tracking) {
		if ev.newParcel != nil {
			known = s.parcels.testAndAdd(ev.op.Tracking)
		} else {
			known = s.parcels.mayExist(ev.op.Tracking)
		}
	}
	if known {
		var err error
		if p, refs, found, err = getParcelRecord(txn, ev.op.Tracking); err != nil {
			return err
		}
	}
	next, changed, reason := cloud.ApplyTerminalEvent(p, found, ev.op, ev.raID)
	if reason != "" {
		c := cloud.NewConflict(ev.op, ev.received, reason, p, found)
		w.res.Conflicts = append(w.res.Conflicts, c)
		return setJSON(txn, conflictKey(c), c)
	}
	switch {
	case changed && !found && ev.newParcel != nil:
		if err := txn.Set(parcelKey(ev.op.Tracking), ev.newParcel); err != nil {
			return err
		}
	case changed:
		var add []byte // the event, when it goes on the timeline
		if ev.timeline {
			add = ev.sk
		}
		if err := s.setParcelAdding(txn, next, refs, add); err != nil {
			return err
		}
	}
	// Returns insight (issue 15): the index of stuck parcels (in memory,
	// once the transaction committed) moves with the step, and the step
	// goes in the group's record (the return's counters move when it is
	// folded).
	if changed {
		w.out.stuck.moved(ev.op.Tracking, next)
	}
	s.insightStep(w.insight, next, cloud.PendingStepOf(ev.op))
	if ev.timeline {
		return w.out.terminal(txn, next, ev) // the event flows out (outbox.go)
	}
	return nil
}

// mark is what w/{tid} keeps: the watermark, and the highest seq of the
// terminal stored (above it when events came out of order). Marks written
// before hi was kept are 8 bytes; their hi is found once, by a seek.
type mark struct {
	wm, hi uint64
	hiKept bool // the stored value has hi
}

func (m mark) value() []byte { return be8(be8(nil, m.wm), m.hi) }

// readMark reads the mark of tid. kept tells that every terminal with a
// stored event has a mark (a store created since marks are kept): no mark
// is then a terminal's first batch.
func readMark(txn *badger.Txn, tid string, kept bool) (mark, error) {
	var m mark
	item, err := txn.Get(watermarkKey(tid))
	if err == badger.ErrKeyNotFound {
		if kept {
			return m, nil
		}
		// Seqs stored before marks were always written (out of order,
		// the watermark still 0).
		m.hi, err = highestSeq(txn, tid)
		return m, err
	} else if err != nil {
		return m, err
	}
	err = item.Value(func(b []byte) error {
		switch len(b) {
		case 16:
			m.wm, m.hi, m.hiKept = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), true
		case 8:
			m.wm = binary.BigEndian.Uint64(b)
		default:
			return fmt.Errorf("watermark of %s: %d bytes", tid, len(b))
		}
		return nil
	})
	if err == nil && !m.hiKept {
		m.hi, err = highestSeq(txn, tid)
		m.hi = max(m.hi, m.wm)
	}
	return m, err
}

// highestSeq returns the highest seq of tid stored, 0 for none.
func highestSeq(txn *badger.Txn, tid string) (uint64, error) {
	prefix := append([]byte("s/"+tid), '/')
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	it.Seek(append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	if !it.Valid() {
		return 0, nil
	}
	k := it.Item().Key()
	if len(k) != len(prefix)+8 {
		return 0, fmt.Errorf("seq key %q", k)
	}
	return binary.BigEndian.Uint64(k[len(prefix):]), nil
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
		if len(b) != 8 && len(b) != 16 {
			return fmt.Errorf("watermark of %s: %d bytes", tid, len(b))
		}
		wm = binary.BigEndian.Uint64(b)
		return nil
	})
	return wm, err
}

// timelineEntry decodes the value of a t/ key: the entry's JSON (entries
// added through AddTimelineEntry), or the s/ key of the terminal's event
// the entry comes from (stores written before the parcel kept them).
func timelineEntry(txn *badger.Txn, v []byte) (timelineItem, error) {
	if bytes.HasPrefix(v, []byte("{")) {
		var e cloud.TimelineEntry
		err := json.Unmarshal(v, &e)
		return timelineItem{entry: e}, err
	}
	return terminalItem(txn, v)
}

// terminalItem reads the timeline entry of the terminal's event stored
// under sk.
func terminalItem(txn *badger.Txn, sk []byte) (timelineItem, error) {
	se, found, err := getStored(txn, sk)
	if err != nil {
		return timelineItem{}, err
	} else if !found {
		return timelineItem{}, fmt.Errorf("event %q of the timeline is missing", sk)
	}
	e, ok := cloud.EntryOf(se.Op, se.ReceivedAt)
	if !ok {
		return timelineItem{}, fmt.Errorf("event %q marks no status", sk)
	}
	return timelineItem{entry: e, op: &se.Op}, nil
}

// getStored reads the event stored under sk; found is false when there is
// none.
func getStored(txn *badger.Txn, sk []byte) (se storedEvent, found bool, err error) {
	item, err := txn.Get(sk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return se, false, nil
	} else if err != nil {
		return se, false, err
	}
	err = item.Value(func(b []byte) (err error) {
		se, err = decodeStored(b)
		return err
	})
	return se, err == nil, err
}
