package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// The outbox of published events (cloud.Event), written in the
// transaction that puts their entries on timelines, as one record per
// transaction rather than one key per event (a key more per event cost
// the ingest's commit loop about 15 % of its CPU):
//
//	o/{n:8}                 -> 'T' and the time the record was written (Unix
//	                           nanoseconds, 8 bytes; absent in records from
//	                           before it), then the transaction's events: for
//	                           each, a kind byte and a uvarint-prefixed
//	                           reference (the s/ key of a terminal's event, or
//	                           an API entry's JSON)
//	O/{merchant}\x00{n:8}   -> the indexes (2 bytes each) of that merchant's
//	                           events in record n
//
// An event's position (Event.Seq, the feed's cursor) is n<<16 | index. The
// parcel (merchant, RA) is read back with the event.

const (
	refTerminal = 't' // the s/ key of a terminal's event
	refEntry    = 'j' // the JSON of an API entry (outEntry)
	recordTime  = 'T' // the header of a record: its time
	recordMax   = 1 << 16
	// recordHeader is the bytes of a record's header: recordTime and
	// the time.
	recordHeader = 1 + 8
)

func outKey(n uint64) []byte { return be8([]byte("o/"), n) }

func merchantOutPrefix(merchant string) []byte { return append([]byte("O/"+merchant), 0) }

// outbox numbers the records. Its lock is held from a transaction's first
// number to its commit, so that records become visible in the order of
// their numbers and a reader's cursor never passes one still to come.
type outbox struct {
	mu   sync.Mutex
	last uint64 // the position of the last event committed
}

// outTxn gathers the events of one transaction into its records.
type outTxn struct {
	at       time.Time // when the records are written
	n        uint64    // the number of the record being filled
	last     uint64    // the position of the last event put
	record   []byte
	count    int
	merchant map[string][]byte // merchant -> indexes in the record
	// stuck are the parcels the transaction moved, for the index of stuck
	// parcels once it committed (stuck.go): updateOut's transactions are
	// the ones that move parcels.
	stuck stuckMoves
	// insight is the transaction's record of the returns insight, taken
	// in once it committed (insightlog.go).
	insight *insight
}

// put adds an event of a parcel of merchant ("" for none) to the record.
func (o *outTxn) put(txn *badger.Txn, merchant string, kind byte, ref []byte) error {
	if o.count == recordMax {
		if err := o.flush(txn); err != nil {
			return err
		}
	}
	if o.count == 0 {
		o.n++
		o.record = binary.BigEndian.AppendUint64(append(o.record, recordTime), uint64(o.at.UnixNano()))
	}
	o.record = append(o.record, kind)
	o.record = binary.AppendUvarint(o.record, uint64(len(ref)))
	o.record = append(o.record, ref...)
	if merchant != "" {
		if o.merchant == nil {
			o.merchant = map[string][]byte{}
		}
		o.merchant[merchant] = binary.BigEndian.AppendUint16(o.merchant[merchant], uint16(o.count))
	}
	o.last = o.n<<16 | uint64(o.count)
	o.count++
	return nil
}

// flush writes the record being filled and its merchants' indexes.
func (o *outTxn) flush(txn *badger.Txn) error {
	if o.count == 0 {
		return nil
	}
	if err := txn.Set(outKey(o.n), o.record); err != nil {
		return err
	}
	for m, idx := range o.merchant {
		if err := txn.Set(be8(merchantOutPrefix(m), o.n), idx); err != nil {
			return err
		}
	}
	o.record, o.count, o.merchant = nil, 0, nil
	return nil
}

// terminal records the event of a terminal's event that agreed with its
// parcel, p, and went on the timeline.
func (o *outTxn) terminal(txn *badger.Txn, p cloud.Parcel, ev *preparedEvent) error {
	return o.put(txn, p.Merchant, refTerminal, ev.sk)
}

// outEntry is the outbox reference of an API timeline entry.
type outEntry struct {
	Tracking string              `json:"tracking"`
	Entry    cloud.TimelineEntry `json:"entry"`
}

// entry records the event of an API timeline entry e of parcel p.
func (o *outTxn) entry(txn *badger.Txn, p cloud.Parcel, e cloud.TimelineEntry) error {
	b, err := json.Marshal(outEntry{Tracking: p.Tracking, Entry: e})
	if err != nil {
		return err
	}
	return o.put(txn, p.Merchant, refEntry, b)
}

// updateOut runs fn in a read-write transaction (update) that may record
// events and move parcels; their record is written last, and the moves
// reach the index of stuck parcels after the commit.
func (s *Store) updateOut(ctx context.Context, fn func(txn *badger.Txn, o *outTxn) error) error {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	var o outTxn
	err := s.update(ctx, func(txn *badger.Txn) error {
		o = outTxn{at: time.Now(), n: s.out.last >> 16, last: s.out.last}
		if err := fn(txn, &o); err != nil {
			return err
		}
		return o.flush(txn)
	})
	if err == nil {
		s.out.last = o.last
		s.stuck.apply(o.stuck) // under s.out.mu, in the commits' order (stuck.go)
		s.log.absorb(o.insight)
	}
	return err
}

// loadOutbox reads the position of the last event recorded.
func (s *Store) loadOutbox() error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/"), Reverse: true})
		defer it.Close()
		it.Seek(outKey(1<<64 - 1))
		if !it.Valid() {
			return nil
		}
		n := binary.BigEndian.Uint64(it.Item().Key()[2:])
		return it.Item().Value(func(v []byte) error {
			refs, err := parseRecord(v)
			if err != nil {
				return err
			}
			s.out.last = n<<16 | uint64(len(refs)-1)
			return nil
		})
	})
}

// ref is an event of a record: its kind and reference.
type ref struct {
	kind byte
	ref  []byte
}

// recordAt returns the time of a record, zero for one from before the
// records had one, and the rest of it.
func recordAt(v []byte) (time.Time, []byte) {
	if len(v) >= 9 && v[0] == recordTime {
		return time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC(), v[9:]
	}
	return time.Time{}, v
}

// parseRecord splits a record into its events.
func parseRecord(v []byte) ([]ref, error) {
	_, v = recordAt(v)
	var out []ref
	for len(v) > 0 {
		kind := v[0]
		n, w := binary.Uvarint(v[1:])
		if w <= 0 || uint64(len(v)-1-w) < n {
			return nil, fmt.Errorf("outbox record cut short")
		}
		out = append(out, ref{kind, v[1+w : 1+w+int(n)]})
		v = v[1+w+int(n):]
	}
	return out, nil
}

// EventsHead implements cloud.Store.
func (s *Store) EventsHead(ctx context.Context) (uint64, error) {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.out.last, nil
}

// Events implements cloud.Store: the network's scope reads the o/
// records, a merchant's its O/ indexes into them.
func (s *Store) Events(ctx context.Context, scope cloud.Scope, after uint64, limit int) ([]cloud.Event, uint64, error) {
	out, last := []cloud.Event{}, after
	prefix := []byte("o/")
	if !scope.All() {
		prefix = merchantOutPrefix(scope.Merchant)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Seek(be8(bytes.Clone(prefix), after>>16)); it.Valid() && len(out) < limit; it.Next() {
			k := it.Item().Key()
			n := binary.BigEndian.Uint64(k[len(k)-8:])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			record := v
			if !scope.All() {
				record, err = getValue(txn, outKey(n))
				if errors.Is(err, badger.ErrKeyNotFound) {
					continue // pruned, its index not yet (PruneEvents)
				} else if err != nil {
					return fmt.Errorf("record %d: %w", n, err)
				}
			}
			refs, err := parseRecord(record)
			if err != nil {
				return fmt.Errorf("record %d: %w", n, err)
			}
			indexes := make([]int, 0, len(refs))
			if scope.All() {
				for i := range refs {
					indexes = append(indexes, i)
				}
			} else {
				for b := v; len(b) >= 2; b = b[2:] {
					indexes = append(indexes, int(binary.BigEndian.Uint16(b)))
				}
			}
			for _, i := range indexes {
				pos := n<<16 | uint64(i)
				if pos <= after || len(out) == limit {
					continue
				}
				if i >= len(refs) {
					return fmt.Errorf("record %d has no event %d", n, i)
				}
				ev, err := readEvent(txn, refs[i])
				if err != nil {
					return fmt.Errorf("event %d: %w", pos, err)
				}
				ev.Seq = pos
				out, last = append(out, ev), pos
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("badgerstore: events: %w", err)
	}
	return out, last, nil
}

// getValue returns the value of key, which must exist.
func getValue(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// readEvent makes the event of a reference, with its parcel.
func readEvent(txn *badger.Txn, r ref) (cloud.Event, error) {
	v := r.ref
	if r.kind == refEntry {
		var oe outEntry
		if err := json.Unmarshal(v, &oe); err != nil {
			return cloud.Event{}, err
		}
		p, _, err := getParcel(txn, oe.Tracking)
		p.Tracking = oe.Tracking
		return cloud.EntryEvent(p, oe.Entry), err
	}
	se, found, err := getStored(txn, v)
	if err != nil {
		return cloud.Event{}, err
	} else if !found {
		return cloud.Event{}, fmt.Errorf("event %q is missing", v)
	}
	p, _, err := getParcel(txn, se.Op.Tracking)
	if err != nil {
		return cloud.Event{}, err
	}
	ev, ok := cloud.TerminalEvent(se.Op, p)
	if !ok {
		return ev, edge.Errorf(edge.EINTERNAL, "Event %q marks no status.", se.Op.ID)
	}
	return ev, nil
}

// ParcelEvents implements cloud.Store: the events of the parcel's
// timeline, in its order.
func (s *Store) ParcelEvents(ctx context.Context, scope cloud.Scope, tracking string) ([]cloud.Event, error) {
	out := []cloud.Event{}
	err := s.db.View(func(txn *badger.Txn) error {
		p, found, err := scopedParcel(txn, scope, tracking)
		if err != nil {
			return err
		} else if !found {
			return cloud.ErrNotFound("parcel", tracking)
		}
		items, err := readTimeline(txn, tracking)
		if err != nil {
			return err
		}
		p.Tracking = tracking
		for _, it := range items {
			if it.op == nil {
				out = append(out, cloud.EntryEvent(p, it.entry))
				continue
			}
			ev, ok := cloud.TerminalEvent(*it.op, p)
			if !ok {
				return edge.Errorf(edge.EINTERNAL, "Event %q marks no status.", it.op.ID)
			}
			out = append(out, ev)
		}
		return nil
	})
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("badgerstore: parcel events: %w", err)
	}
	return out, nil
}
