package badgerstore

import (
	"context"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
)

// TestNoInsight checks that a store opened with Options.NoInsight keeps
// the returns, events and timelines of the reports' fixture and none of
// the insight's keys, which a store opened without it keeps under every
// prefix but the old stuck index's.
func TestNoInsight(t *testing.T) {
	for _, noInsight := range []bool{false, true} {
		s, err := OpenWith(t.TempDir(), Options{NoInsight: noInsight})
		if err != nil {
			t.Fatal(err)
		}
		storetest.ReportFixture(t, s)
		tl, err := s.Timeline(context.Background(), cloud.Network, "A1")
		if err != nil || len(tl) != 6 {
			t.Errorf("NoInsight %v: timeline of A1 = %d entries, %v; want 6", noInsight, len(tl), err)
		}
		if err := s.fold(context.Background()); err != nil {
			t.Fatal(err)
		}
		err = s.db.View(func(txn *badger.Txn) error {
			for _, p := range derivedPrefixes {
				it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
				it.Rewind()
				// The stuck index is kept in memory (stuck.go): no
				// store writes K/ keys any more; the insight's records
				// are folded (insightlog.go).
				want := !noInsight && p != stuckIndexPrefix && p != insightLogPrefix
				if found := it.Valid(); found != want {
					t.Errorf("NoInsight %v: keys under %s: %v, want %v", noInsight, p, found, want)
				}
				it.Close()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
