package badgerstore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// timelineSnapshot is the timeline and the events of tracking, as JSON.
func timelineSnapshot(t *testing.T, s *Store, tracking string) string {
	t.Helper()
	ctx := context.Background()
	tl, err := s.Timeline(ctx, cloud.Network, tracking)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.ParcelEvents(ctx, cloud.Network, tracking)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]any{tl, evs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTimelineInParcel: a terminal's event on a timeline writes no t/ key
// (the parcel keeps its s/ key), and a store written before, whose
// parcels (codec version 2) have their terminal events' entries under
// t/, answers the same timelines and events, and goes on adding to them in
// order.
func TestTimelineInParcel(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "acme", Name: "ACME", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	r := cloud.Return{ID: "ra-1", Merchant: "acme", Tracking: "XY1", CreatedAt: at, ExpiresAt: at.AddDate(0, 1, 0), Token: "token"}
	if err := s.CreateReturn(ctx, r); err != nil {
		t.Fatal(err)
	}
	dep := storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at.Add(time.Hour))
	dep.Data = json.RawMessage(`{"ra_id":"ra-1"}`)
	carrier := storetest.Op("t-1", 2, edge.OpReturnDeposited, "CARRIER1", at.Add(time.Hour))
	if _, err := s.StoreEvents(ctx, "t-1", []edge.Operation{dep, carrier}, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"XY1": timelineSnapshot(t, s, "XY1"), "CARRIER1": timelineSnapshot(t, s, "CARRIER1")}
	if terminalKeys := terminalTimelineKeys(t, s.db); terminalKeys != 0 {
		t.Fatalf("%d t/ keys of terminal events, want none", terminalKeys)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The store as the version before left it.
	rewrite(t, dir, func(txn *badger.Txn, k, v []byte) error {
		if !hasPrefix(k, "p/") {
			return nil
		}
		p, err := oldTimeline(txn, k, v)
		if err != nil {
			return err
		}
		b := encodeParcel(p, nil)
		b[0] = parcelCodecV2
		return txn.Set(k, b)
	})
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := terminalTimelineKeys(t, s.db); n != 2 {
		t.Fatalf("the old store has %d t/ keys of terminal events, want 2", n)
	}
	for tracking, w := range want {
		if got := timelineSnapshot(t, s, tracking); got != w {
			t.Errorf("%s in the old layout:\n%s\nwant:\n%s", tracking, got, w)
		}
	}

	// A handover, and a cancel received after it but occurred before.
	hand := storetest.Op("t-1", 3, edge.OpParcelHandedOver, "XY1", at.Add(3*time.Hour))
	if _, err := s.StoreEvents(ctx, "t-1", []edge.Operation{hand}, at.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	cancelled := storetest.Op("t-1", 4, edge.OpReturnCancelled, "CARRIER1", at.Add(2*time.Hour))
	if _, err := s.StoreEvents(ctx, "t-1", []edge.Operation{cancelled}, at.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for tracking, statuses := range map[string][]cloud.Status{
		"XY1":      {cloud.StatusCreated, cloud.StatusDeposited, cloud.StatusHandedOver},
		"CARRIER1": {cloud.StatusDeposited, cloud.StatusCancelled},
	} {
		tl, err := s.Timeline(ctx, cloud.Network, tracking)
		if err != nil {
			t.Fatal(err)
		}
		var got []cloud.Status
		for _, e := range tl {
			got = append(got, e.Status)
		}
		if fmt.Sprint(got) != fmt.Sprint(statuses) {
			t.Errorf("timeline of %s = %v, want %v", tracking, got, statuses)
		}
		evs, err := s.ParcelEvents(ctx, cloud.Network, tracking)
		if err != nil || len(evs) != len(statuses) {
			t.Errorf("events of %s = %d, %v; want %d", tracking, len(evs), err, len(statuses))
		}
	}
}

// terminalTimelineKeys counts the t/ keys that hold a terminal's event
// (not an API entry's JSON).
func terminalTimelineKeys(t *testing.T, db *badger.DB) int {
	t.Helper()
	n := 0
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("t/"), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func(v []byte) error {
				if len(v) > 0 && v[0] != '{' {
					n++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
