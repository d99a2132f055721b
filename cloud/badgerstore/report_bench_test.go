package badgerstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// BenchmarkStoreReturnSteps measures the ingest of returns' steps, the
// events whose parcels the reports count: batches of 256 deposits naming
// their RA (with two items), then 256 handovers. The returns are created
// with the clock stopped. insight=off is the store without the returns
// insight's keys (Options.NoInsight): what they cost.
func BenchmarkStoreReturnSteps(b *testing.B) {
	for _, off := range []bool{false, true} {
		b.Run(insightName(off), func(b *testing.B) {
			s, err := badgerstore.OpenWith(b.TempDir(), badgerstore.Options{NoInsight: off})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchReturnSteps(b, s)
		})
	}
}

// BenchmarkStoreFleetInsight is BenchmarkStoreFleet's full batches of 256
// (carriers' parcels, as loadgen's) with the returns insight and without
// (Options.NoInsight), one after the other: what the insight's keys cost
// the ingest of parcels of no return (the stuck index, the statements).
func BenchmarkStoreFleetInsight(b *testing.B) {
	for _, off := range []bool{false, true} {
		b.Run(insightName(off)+"/batch=256", func(b *testing.B) {
			s, err := badgerstore.OpenWith(b.TempDir(), badgerstore.Options{NoInsight: off})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchFleet(b, s, 1000, 256, 64)
		})
	}
}

func insightName(off bool) string {
	if off {
		return "insight=off"
	}
	return "insight=on"
}

func benchReturnSteps(b *testing.B, s *badgerstore.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "acme", Name: "ACME", CreatedAt: at}); err != nil {
		b.Fatal(err)
	}
	items := []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonChangedMind}, {SKU: "S2", Qty: 1, Reason: edge.ReasonWrongSize}}
	seq := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		deps, hands := make([]edge.Operation, 256), make([]edge.Operation, 256)
		for j := range deps {
			n := i*256 + j
			r := cloud.Return{ID: fmt.Sprintf("ra-%d", n), Merchant: "acme", Tracking: fmt.Sprintf("RS%09dFR", n), Carrier: "DEMO", Items: items, CreatedAt: at, Token: "t"}
			if err := s.CreateReturn(ctx, r); err != nil {
				b.Fatal(err)
			}
			seq++
			deps[j] = storetest.Op("t-1", seq, edge.OpReturnDeposited, r.Tracking, at.Add(time.Hour))
			deps[j].Data, _ = json.Marshal(edge.DepositData{RAID: r.ID, Verified: true, Mode: edge.ModeLabelAtCounter, Items: items, ReceiptID: "r"})
		}
		for j := range hands {
			seq++
			hands[j] = storetest.Op("t-1", seq, edge.OpParcelHandedOver, deps[j].Tracking, at.Add(3*time.Hour))
		}
		b.StartTimer()
		for _, evs := range [][]edge.Operation{deps, hands} {
			if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkInsight loads a network's three months (1,000,000 events by
// default, BENCH_INSIGHT_EVENTS) and times its reports and stuck lists
// (storetest.BenchInsight).
func BenchmarkInsight(b *testing.B) {
	s := MustOpen(b)
	defer s.Close()
	storetest.BenchInsight(b, s)
}
