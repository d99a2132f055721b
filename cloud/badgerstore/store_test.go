package badgerstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
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
	seq := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs := make([]edge.Operation, 256)
		for j := range evs {
			seq++
			evs[j] = storetest.Op("t-1", seq, edge.OpReturnDeposited, fmt.Sprintf("XY%09dFR", seq), at)
		}
		if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStoreFleet stores batches of 50 deposits from 1,000 terminals
// with 16 workers, as the ingest does (storetest.BenchFleet).
func BenchmarkStoreFleet(b *testing.B) {
	s := MustOpen(b)
	defer s.Close()
	storetest.BenchFleet(b, s, 1000, 50, 16)
}

// TestGroupCommit stores batches from many callers at once, as the ingest's
// workers do, so that they share transactions: every caller gets its own
// counts and watermark, a batch sent twice at once counts once, and a batch
// Badger refuses (an event id over Badger's key limit) fails alone.
func TestGroupCommit(t *testing.T) {
	s := MustOpen(t)
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const terminals, rounds, size = 24, 5, 20
	for round := range rounds {
		var wg sync.WaitGroup
		results := make(chan cloud.Ingested, 2*terminals)
		for n := range terminals {
			tid := fmt.Sprintf("t-%02d", n)
			evs := make([]edge.Operation, size)
			for i := range evs {
				evs[i] = storetest.Deposit(tid, uint64(round*size+i+1), at)
			}
			// Even terminals send their batch twice at once (a resend
			// racing the original).
			for range 1 + (n+1)%2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := s.StoreEvents(ctx, tid, evs, at)
					if err != nil {
						t.Errorf("%s: %v", tid, err)
						return
					}
					results <- res
				}()
			}
		}
		bad := storetest.Deposit("t-bad", uint64(round+1), at)
		bad.ID = strings.Repeat("x", 70000)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.StoreEvents(ctx, "t-bad", []edge.Operation{bad}, at); err == nil {
				t.Error("an event id of 70,000 bytes was stored")
			}
		}()
		wg.Wait()
		close(results)
		var stored, dups int
		for res := range results {
			stored, dups = stored+res.Stored, dups+res.Duplicates
			if res.AckedSeq != uint64((round+1)*size) {
				t.Errorf("round %d: acked_seq %d, want %d", round, res.AckedSeq, (round+1)*size)
			}
		}
		if stored != terminals*size || dups != terminals/2*size {
			t.Fatalf("round %d: %d stored, %d duplicates; want %d and %d", round, stored, dups, terminals*size, terminals/2*size)
		}
	}
	for n := range terminals {
		tid := fmt.Sprintf("t-%02d", n)
		tl, err := s.Timeline(ctx, fmt.Sprintf("LG%s%07dFR", tid[len(tid)-4:], 1))
		if err != nil || len(tl) != 1 || tl[0].EventID != tid+"-1" || tl[0].Location != tid {
			t.Fatalf("timeline of %s's first deposit = %+v, %v", tid, tl, err)
		}
	}
}

// BenchmarkStoreFleet256 is BenchmarkStoreFleet with full batches of 256
// (a terminal catching up) and 64 callers, as the ingest's workers.
func BenchmarkStoreFleet256(b *testing.B) {
	s := MustOpen(b)
	defer s.Close()
	storetest.BenchFleet(b, s, 1000, 256, 64)
}
