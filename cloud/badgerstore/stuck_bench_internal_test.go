package badgerstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// BenchmarkStuckIndex times the stuck lists and the count on an index of
// 400,000 waiting parcels of 20 merchants (a fifth on shelves, the rest
// handed over and waiting for the carrier, since spread over 90 days),
// the volume of BenchmarkInsight at 1M events, built directly (set, as
// loadParcels does at Open) so that it runs in seconds. An op of a list
// asks for each stage in turn, waiting for more than three days, up to
// cloud.MaxStuckParcels; an op of count counts both stages, as a
// /metrics scrape does. heap-B/parcel is the heap the index holds for
// each waiting parcel.
func BenchmarkStuckIndex(b *testing.B) {
	const parcels, merchants = 400_000, 20
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s, err := OpenWith(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap := ms.HeapAlloc
	r := rand.New(rand.NewPCG(1, 2))
	x := newStuckIndex()
	for i := range parcels {
		p := cloud.Parcel{
			Tracking: fmt.Sprintf("1Z%010d", i), Merchant: fmt.Sprintf("m-%02d", i%merchants),
			Status: cloud.StatusHandedOver, Terminal: fmt.Sprintf("t-%03d", i%100),
			Since: now.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour)))),
		}
		if i/merchants%5 == 0 { // a fifth of each merchant's
			p.Status, p.Holder = cloud.StatusDeposited, p.Terminal
		}
		x.set(p)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perParcel := float64(ms.HeapAlloc-heap) / parcels
	s.stuck = x
	ctx := context.Background()
	before := now.Add(-cloud.DefaultStuckAfter)
	for _, c := range []struct {
		name  string
		scope cloud.Scope
	}{{"list/scope=merchant", cloud.MerchantScope("m-07")}, {"list/scope=network", cloud.Network}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				q := cloud.StuckQuery{Stage: cloud.Stages[i%len(cloud.Stages)], Before: before, Limit: cloud.MaxStuckParcels}
				ps, err := s.StuckParcels(ctx, c.scope, q)
				if err != nil || len(ps) != cloud.MaxStuckParcels {
					b.Fatalf("StuckParcels = %d parcels, %v; want %d", len(ps), err, cloud.MaxStuckParcels)
				}
			}
			b.ReportMetric(perParcel, "heap-B/parcel")
		})
	}
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, st := range cloud.Stages {
				k, err := s.CountStuck(ctx, st, before)
				if err != nil {
					b.Fatal(err)
				}
				n += k
			}
			if n < parcels*9/10 || n > parcels {
				b.Fatalf("CountStuck = %d in all, want about %d", n, parcels*87/90)
			}
		}
		b.ReportMetric(perParcel, "heap-B/parcel")
	})
	runtime.KeepAlive(x)
}
