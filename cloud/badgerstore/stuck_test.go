package badgerstore

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestStuckIndexReopen: the index of stuck parcels is in memory; a
// reopened store builds it again from the parcels, with each parcel at the
// stage it had reached, and drops the keys of the index a store written
// before kept under K/.
func TestStuckIndexReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	evs := []edge.Operation{
		storetest.Op("t-1", 1, edge.OpReturnDeposited, "STUCK1", at),
		storetest.Op("t-1", 2, edge.OpReturnDeposited, "STUCK2", at),
		storetest.Op("t-1", 3, edge.OpParcelHandedOver, "STUCK2", at.Add(time.Hour)),
	}
	if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
		t.Fatal(err)
	}
	// A key of the old index, as a store written before left it.
	old := append(be8(stuckPrefix("", cloud.StageAwaitingHandover), timeKey(at)), "OLDKEY"...)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(old, []byte("t-9")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := func(stage cloud.Stage) []cloud.StuckParcel {
		ps, err := s.StuckParcels(ctx, cloud.Network, cloud.StuckQuery{Stage: stage, Before: at.Add(48 * time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	if ps := q(cloud.StageAwaitingHandover); len(ps) != 1 || ps[0].Tracking != "STUCK1" || ps[0].Terminal != "t-1" || !ps[0].Since.Equal(at) {
		t.Errorf("awaiting handover after reopen = %+v, want STUCK1 at t-1 since %s", ps, at)
	}
	if ps := q(cloud.StageAwaitingCarrier); len(ps) != 1 || ps[0].Tracking != "STUCK2" || !ps[0].Since.Equal(at.Add(time.Hour)) {
		t.Errorf("awaiting carrier after reopen = %+v, want STUCK2 since %s", ps, at.Add(time.Hour))
	}
	_ = s.db.View(func(txn *badger.Txn) error {
		if ok, _ := exists(txn, old); ok {
			t.Errorf("the old index's key %q is still stored", old)
		}
		return nil
	})
}

// stuckPrefix is the prefix of the keys of the old index of stuck parcels
// of merchant at stage.
func stuckPrefix(merchant string, stage cloud.Stage) []byte {
	return []byte(stuckIndexPrefix + merchant + "\x00" + string(stage) + "\x00")
}
