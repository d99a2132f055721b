package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// The outbox of published events (cloud.Event), written in the
// transaction that puts their entry on a timeline:
//
//	o/{seq:8}                 -> s/ key of a terminal's event, or the entry's JSON (API)
//	O/{merchant}\x00{seq:8}   -> the same, for the events of a merchant's parcels
//
// The value refers to the event as the timeline does: the commit loop only
// sets two keys. The parcel (merchant, RA) is read back with the event.

func outKey(seq uint64) []byte { return be8([]byte("o/"), seq) }

func merchantOutPrefix(merchant string) []byte { return append([]byte("O/"+merchant), 0) }

// outbox numbers the events. Its lock is held from a transaction's first
// number to its commit, so that events become visible in the order of
// their numbers and a reader's cursor never passes one still to come.
type outbox struct {
	mu   sync.Mutex
	last uint64 // the last number committed
}

// outTxn numbers the events of one transaction.
type outTxn struct{ next uint64 }

// put records an event, value, of a parcel of merchant ("" for none).
func (o *outTxn) put(txn *badger.Txn, merchant string, value []byte) error {
	o.next++
	if err := txn.Set(outKey(o.next), value); err != nil {
		return err
	}
	if merchant == "" {
		return nil
	}
	return txn.Set(be8(merchantOutPrefix(merchant), o.next), value)
}

// terminal records the event of a terminal's event that agreed with its
// parcel, p, and went on the timeline.
func (o *outTxn) terminal(txn *badger.Txn, p cloud.Parcel, ev *preparedEvent) error {
	return o.put(txn, p.Merchant, ev.sk)
}

// outEntry is the outbox value of an API timeline entry.
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
	return o.put(txn, p.Merchant, b)
}

// updateOut runs fn in a read-write transaction (update) that may record
// events.
func (s *Store) updateOut(ctx context.Context, fn func(txn *badger.Txn, o *outTxn) error) error {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	var o outTxn
	err := s.update(ctx, func(txn *badger.Txn) error {
		o = outTxn{next: s.out.last}
		return fn(txn, &o)
	})
	if err == nil {
		s.out.last = o.next
	}
	return err
}

// loadOutbox reads the number of the last event recorded.
func (s *Store) loadOutbox() error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/"), Reverse: true})
		defer it.Close()
		it.Seek(outKey(1<<64 - 1))
		if it.Valid() {
			s.out.last = binary.BigEndian.Uint64(it.Item().Key()[2:])
		}
		return nil
	})
}

// EventsHead implements cloud.Store.
func (s *Store) EventsHead(ctx context.Context) (uint64, error) {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.out.last, nil
}

// Events implements cloud.Store: the network's scope reads o/, a
// merchant's its O/ keys.
func (s *Store) Events(ctx context.Context, scope cloud.Scope, after uint64, limit int) ([]cloud.Event, uint64, error) {
	out, last := []cloud.Event{}, after
	if after == 1<<64-1 {
		return out, last, nil // none after the last position (after+1 would wrap)
	}
	prefix := []byte("o/")
	if !scope.All() {
		prefix = merchantOutPrefix(scope.Merchant)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(be8(bytes.Clone(prefix), after+1)); it.Valid() && len(out) < limit; it.Next() {
			k := it.Item().Key()
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			ev, err := readEvent(txn, v)
			if err != nil {
				return fmt.Errorf("event %d: %w", seq, err)
			}
			ev.Seq = seq
			out, last = append(out, ev), seq
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("badgerstore: events: %w", err)
	}
	return out, last, nil
}

// readEvent makes the event of an outbox value, with its parcel.
func readEvent(txn *badger.Txn, v []byte) (cloud.Event, error) {
	if bytes.HasPrefix(v, []byte("{")) {
		var oe outEntry
		if err := json.Unmarshal(v, &oe); err != nil {
			return cloud.Event{}, err
		}
		p, _, err := getParcel(txn, oe.Tracking)
		p.Tracking = oe.Tracking
		return cloud.EntryEvent(p, oe.Entry), err
	}
	var se storedEvent
	if found, err := getJSON(txn, v, &se); err != nil {
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
