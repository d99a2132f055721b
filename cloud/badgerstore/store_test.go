package badgerstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// MustOpen opens a store on a temporary directory.
func MustOpen(tb testing.TB) *badgerstore.Store {
	tb.Helper()
	s, err := badgerstore.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cloud.Store { return MustOpen(t) })
}

// TestReopen checks that stored events and the watermark survive a restart.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := badgerstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := s.StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at), storetest.Op("t-1", 3, edge.OpReturnRefused, "", at)}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = badgerstore.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at), storetest.Op("t-1", 2, edge.OpReturnRefused, "", at)}, at)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 1 || res.Duplicates != 1 || res.AckedSeq != 3 {
		t.Fatalf("after reopen = %+v, want 1 stored, 1 duplicate, acked 3", res)
	}
}

// BenchmarkStoreEvents measures durable ingest of batches of 256 events.
func BenchmarkStoreEvents(b *testing.B) {
	s := MustOpen(b)
	defer s.Close()
	at := time.Now()
	ctx := context.Background()
	// The batches are built before the clock starts: only storing is timed.
	batches := make([][]edge.Operation, b.N)
	seq := uint64(0)
	for i := range batches {
		batches[i] = make([]edge.Operation, 256)
		for j := range batches[i] {
			seq++
			batches[i][j] = storetest.Op("t-1", seq, edge.OpReturnDeposited, fmt.Sprintf("XY%09dFR", seq), at)
		}
	}
	b.ResetTimer()
	for _, evs := range batches {
		if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStoreFleet stores the batches of 1,000 terminals from 64
// callers, as the ingest's workers do (storetest.BenchFleet): batches of 50,
// and full batches of 256 (a terminal catching up).
func BenchmarkStoreFleet(b *testing.B) {
	for _, batch := range []int{50, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := MustOpen(b)
			defer s.Close()
			storetest.BenchFleet(b, s, 1000, batch, 64)
		})
	}
}

// TestParcelsFilterReopen: after a restart, the parcels filter is built
// again from the store, so a parcel deposited before is still known: a
// second terminal's deposit of it is a conflict.
func TestParcelsFilterReopen(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	s := storeAndReopen(t, storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at))
	res, err := s.StoreEvents(ctx, "t-2", []edge.Operation{storetest.Op("t-2", 1, edge.OpReturnDeposited, "XY1", at)}, at)
	if err != nil || len(res.Conflicts) != 1 || res.Conflicts[0].Reason != cloud.ConflictAlreadyDeposited {
		t.Fatalf("deposit of a known parcel after a restart = %+v, %v; want ALREADY_DEPOSITED", res, err)
	}
}

// TestIDFilterReopen: after a restart, the filter of event ids is built
// again from the store, so an id stored before and sent again under a new
// seq (a terminal whose journal was reset) still counts once.
func TestIDFilterReopen(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	first := storetest.Op("t-1", 1, edge.OpReturnDeposited, "XY1", at)
	s := storeAndReopen(t, first)
	again := first
	again.Seq = 2
	res, err := s.StoreEvents(ctx, "t-1", []edge.Operation{again}, at)
	if err != nil || res.Stored != 0 || res.Duplicates != 1 || res.AckedSeq != 2 {
		t.Fatalf("the same id under seq 2 after a restart = %+v, %v; want a duplicate, acked 2", res, err)
	}
	tl, err := s.Timeline(ctx, cloud.Network, "XY1")
	if err != nil || len(tl) != 1 {
		t.Fatalf("timeline = %+v, %v; want the deposit once", tl, err)
	}
}

// storeAndReopen stores ev (of terminal t-1) in a new store, closes it and
// opens it again.
func storeAndReopen(t *testing.T, ev edge.Operation) *badgerstore.Store {
	t.Helper()
	dir := t.TempDir()
	s, err := badgerstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreEvents(context.Background(), "t-1", []edge.Operation{ev}, ev.OccurredAt); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = badgerstore.Open(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
