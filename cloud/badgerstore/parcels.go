package badgerstore

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func parcelKey(tracking string) []byte { return []byte("p/" + tracking) }

func entryIDKey(eventID string) []byte { return append([]byte("x/"), eventID...) }

// conflictKey orders conflicts by when they were received.
func conflictKey(c cloud.Conflict) []byte {
	k := be8([]byte("c/"), timeKey(c.ReceivedAt))
	return append(k, c.EventID...)
}

// scopedParcel reads the parcel of tracking; found is false when there is
// none or it is not in scope.
func scopedParcel(txn *badger.Txn, scope cloud.Scope, tracking string) (p cloud.Parcel, found bool, err error) {
	if !cloud.ValidTracking(tracking) {
		return p, false, nil
	}
	if p, found, err = getParcel(txn, tracking); err != nil || !found {
		return p, false, err
	}
	return p, scope.Allows(p.Merchant), nil
}

// FindParcel implements cloud.Store.
func (s *Store) FindParcel(ctx context.Context, scope cloud.Scope, tracking string) (cloud.Parcel, error) {
	var p cloud.Parcel
	var found bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		p, found, err = scopedParcel(txn, scope, tracking)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("badgerstore: find parcel: %w", err)
	} else if !found {
		return cloud.Parcel{}, cloud.ErrNotFound("parcel", tracking)
	}
	return p, nil
}

// Timeline implements cloud.Store. Keys sort by occurred_at then
// received_at, so the iteration order is the timeline's.
func (s *Store) Timeline(ctx context.Context, scope cloud.Scope, tracking string) ([]cloud.TimelineEntry, error) {
	out := []cloud.TimelineEntry{}
	err := s.db.View(func(txn *badger.Txn) error {
		if !scope.All() {
			if _, found, err := scopedParcel(txn, scope, tracking); err != nil {
				return err
			} else if !found {
				return cloud.ErrNotFound("parcel", tracking)
			}
		}
		var err error
		out, err = timelineIn(txn, tracking)
		return err
	})
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("badgerstore: timeline: %w", err)
	}
	return out, nil
}

// timelineIn reads the timeline of tracking in txn.
func timelineIn(txn *badger.Txn, tracking string) ([]cloud.TimelineEntry, error) {
	items, err := readTimeline(txn, tracking)
	if err != nil {
		return nil, err
	}
	out := make([]cloud.TimelineEntry, len(items))
	for i, it := range items {
		out[i] = it.entry
	}
	return out, nil
}

// timelineItem is an entry of a parcel's timeline and, for a terminal's
// event, the event.
type timelineItem struct {
	entry cloud.TimelineEntry
	op    *edge.Operation // nil for an entry of the API
}

// readTimeline reads the timeline of tracking in txn, in its order: by
// occurred_at, then received_at, then event id, as the t/ keys sort. It
// merges the t/ keys (the API's entries, and the terminal events of
// parcels written before the parcel kept them) with the terminal events
// the parcel keeps (parcelcodec.go).
func readTimeline(txn *badger.Txn, tracking string) ([]timelineItem, error) {
	out := []timelineItem{}
	if !cloud.ValidTracking(tracking) {
		return out, nil
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: timelinePrefix(tracking), PrefetchValues: true, PrefetchSize: 16})
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return nil, err
		}
		item, err := timelineEntry(txn, v)
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("%s: %w", it.Item().Key(), err)
		}
		out = append(out, item)
	}
	it.Close()
	_, refs, _, err := getParcelRecord(txn, tracking)
	if err != nil {
		return nil, err
	}
	keyed := len(out)
	if err := eachRef(refs, func(sk []byte) error {
		item, err := terminalItem(txn, sk)
		out = append(out, item)
		return err
	}); err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", tracking, err)
	}
	if len(out) > keyed {
		// The parcel keeps its events in the order they were applied,
		// which is the order of their seqs, not of their times.
		slices.SortStableFunc(out, func(a, b timelineItem) int { return compareEntries(a.entry, b.entry) })
	}
	return out, nil
}

// compareEntries orders timeline entries as their t/ keys sort.
func compareEntries(a, b cloud.TimelineEntry) int {
	if c := cmp.Compare(timeKey(a.OccurredAt), timeKey(b.OccurredAt)); c != 0 {
		return c
	}
	if c := cmp.Compare(timeKey(a.ReceivedAt), timeKey(b.ReceivedAt)); c != 0 {
		return c
	}
	return strings.Compare(a.EventID, b.EventID)
}

// AddTimelineEntry implements cloud.Store.
func (s *Store) AddTimelineEntry(ctx context.Context, tracking string, e cloud.TimelineEntry) (bool, error) {
	if err := checkEntry(tracking, e); err != nil {
		return false, err
	}
	var added bool
	err := s.update(ctx, func(txn *badger.Txn) (err error) {
		added, err = addEntry(txn, tracking, e)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("badgerstore: add timeline entry: %w", err)
	}
	return added, nil
}

func checkEntry(tracking string, e cloud.TimelineEntry) error {
	if !cloud.ValidTracking(tracking) || e.EventID == "" || !e.Status.Valid() {
		return edge.Errorf(edge.EINVALID, "A timeline entry needs a tracking number, an event id and a known status.")
	}
	return nil
}

// addEntry adds e to the timeline unless its event id is known already.
func addEntry(txn *badger.Txn, tracking string, e cloud.TimelineEntry) (bool, error) {
	if ok, err := exists(txn, entryIDKey(e.EventID)); err != nil || ok {
		return false, err
	}
	if err := txn.Set(entryIDKey(e.EventID), nil); err != nil {
		return false, err
	}
	return true, setJSON(txn, timelineKey(tracking, e), e)
}

// AddPartnerEntry implements cloud.Store.
func (s *Store) AddPartnerEntry(ctx context.Context, scope cloud.Scope, tracking string, e cloud.TimelineEntry, check func(cloud.Parcel) (cloud.Parcel, error)) (bool, error) {
	if err := checkEntry(tracking, e); err != nil {
		return false, err
	}
	var added bool
	err := s.updateOut(ctx, func(txn *badger.Txn, out *outTxn) error {
		added = false
		p, refs, found, err := getParcelRecord(txn, tracking)
		if err != nil {
			return err
		} else if !found || !scope.Allows(p.Merchant) {
			return cloud.ErrNotFound("parcel", tracking)
		}
		if ok, err := exists(txn, entryIDKey(e.EventID)); err != nil || ok {
			return err
		}
		next, err := check(p)
		if err != nil {
			return err
		}
		if added, err = addEntry(txn, tracking, e); err != nil {
			return err
		}
		out.stuck.moved(tracking, next) // returns insight (issue 15)
		in := s.newInsight()
		out.insight = in
		s.insightStep(in, next, cloud.PendingPartnerStep(tracking, e))
		if err := in.flush(txn); err != nil {
			return err
		}
		if err := s.setParcel(txn, next, refs); err != nil || !added {
			return err
		}
		return out.entry(txn, next, e)
	})
	if err != nil {
		if _, coded := err.(*edge.Error); coded {
			return false, err
		}
		return false, fmt.Errorf("badgerstore: add partner entry: %w", err)
	}
	return added, nil
}

// Conflicts implements cloud.Store; the cursor is the hex of the last
// conflict's key.
func (s *Store) Conflicts(ctx context.Context, after string, limit int) ([]cloud.Conflict, string, error) {
	out := []cloud.Conflict{}
	next := after
	start := []byte("c/")
	if after != "" {
		k, err := hex.DecodeString(after)
		if err != nil {
			return nil, "", edge.Errorf(edge.EINVALID, "The cursor %q is not one this API gave.", after)
		}
		start = append(k, 0) // the first key after it
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("c/"), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			var c cloud.Conflict
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &c) }); err != nil {
				return err
			}
			out = append(out, c)
			next = hex.EncodeToString(it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("badgerstore: conflicts: %w", err)
	}
	return out, next, nil
}
