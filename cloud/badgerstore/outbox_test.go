package badgerstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// TestOutboxReopen: after a restart, events are numbered on from the last
// one recorded, so that a cursor given before the restart still reads
// what came after it.
func TestOutboxReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s, err := badgerstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	store := func(seq uint64, tracking string) {
		t.Helper()
		if _, err := s.StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", seq, edge.OpReturnDeposited, tracking, at)}, at); err != nil {
			t.Fatal(err)
		}
	}
	store(1, "XY1")
	store(2, "XY2")
	before, cursor, err := s.Events(ctx, cloud.Network, 0, 10)
	if err != nil || len(before) != 2 {
		t.Fatalf("before = %v, %v", before, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = badgerstore.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h, err := s.EventsHead(ctx); err != nil || h != cursor {
		t.Fatalf("head after reopen = %d, %v; want %d", h, err, cursor)
	}
	store(3, "XY3")
	after, _, err := s.Events(ctx, cloud.Network, cursor, 10)
	if err != nil || len(after) != 1 || after[0].Tracking != "XY3" || after[0].Seq <= cursor {
		t.Fatalf("after the restart = %+v, %v; want XY3 after %d", after, err, cursor)
	}
}
