package badgerstore_test

import (
	"testing"

	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/storetest"
)

// BenchmarkStoreReturnSteps measures the ingest of returns' steps
// (storetest.BenchReturnSteps). insight=off is the store without the
// returns insight's keys (Options.NoInsight): what they cost.
func BenchmarkStoreReturnSteps(b *testing.B) {
	for _, off := range []bool{false, true} {
		b.Run(insightName(off), func(b *testing.B) {
			s, err := badgerstore.OpenWith(b.TempDir(), badgerstore.Options{NoInsight: off})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchReturnSteps(b, s, nil)
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

// BenchmarkInsight loads a network's three months (1,000,000 events by
// default, BENCH_INSIGHT_EVENTS) and times its reports and stuck lists
// (storetest.BenchInsight).
func BenchmarkInsight(b *testing.B) {
	s := MustOpen(b)
	defer s.Close()
	storetest.BenchInsight(b, s)
}
