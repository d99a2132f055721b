package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// undo0017 returns 0017_collate_c.sql turned round: every text column
// under "C" put back under the database's collation, and 0017 forgotten.
func undo0017(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("migrations/0017_collate_c.sql")
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(`col.collation_name IS NULL`, `col.collation_name = 'C'`, `TYPE text COLLATE "C"`, `TYPE text COLLATE "default"`)
	undo := r.Replace(string(b))
	if undo == string(b) || strings.Count(undo, `"default"`) != 1 {
		t.Fatal("0017_collate_c.sql changed: update undo0017")
	}
	return undo + "\nDELETE FROM schema_version WHERE version = 17"
}

// TestCollateMigration migrates a store holding returns, parcels, events
// and conflicts of two merchants to bytewise text columns
// (0017_collate_c.sql): every timeline and parcel reads back the same,
// every text column is then C, and ingest goes on.
func TestCollateMigration(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s := openDSN(t, dsn)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	trackings := []string{"TRKa1", "TRKB2", "trkc3", "TRKÉ4"}
	for i, tr := range trackings {
		m := []string{"acme", "bolt"}[i%2]
		if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-" + tr, Merchant: m, Tracking: tr, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	var evs []edge.Operation
	for i, tr := range append(trackings, "CAR1") {
		evs = append(evs, storetest.Op("t-1", uint64(i+1), edge.OpReturnDeposited, tr, at))
	}
	// A handover of a parcel never deposited: a conflict.
	evs = append(evs, storetest.Op("t-1", 6, edge.OpParcelHandedOver, "NEVER1", at))
	if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", 7, edge.OpParcelHandedOver, "TRKB2", at)}, at); err != nil {
		t.Fatal(err)
	}
	read := func(s cloud.Store) string {
		t.Helper()
		var out []string
		for _, tr := range append(trackings, "CAR1") {
			p, err := s.FindParcel(ctx, cloud.Network, tr)
			if err != nil {
				t.Fatal(err)
			}
			tl, err := s.Timeline(ctx, cloud.Network, tr)
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			for _, e := range tl {
				steps = append(steps, string(e.Status))
			}
			out = append(out, fmt.Sprintf("%s %s %s %s [%s]", tr, p.Merchant, p.Status, p.Holder, strings.Join(steps, " ")))
		}
		cs, _, err := s.Conflicts(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			out = append(out, fmt.Sprintf("conflict %s %s %s", c.Tracking, c.Type, c.Reason))
		}
		return strings.Join(out, "\n")
	}
	want := read(s)
	if !strings.Contains(want, "TRKB2 bolt handed_over") || !strings.Contains(want, "conflict NEVER1") {
		t.Fatalf("the store before the migration:\n%s", want)
	}
	if _, err := s.Pool().Exec(ctx, undo0017(t)); err != nil {
		t.Fatal(err)
	}
	var notC int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'text' AND collation_name IS NULL`).Scan(&notC); err != nil || notC < 20 {
		t.Fatalf("text columns under the database's collation after the undo: %d, %v", notC, err)
	}

	again := openDSN(t, dsn) // migrates
	if err := again.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'`).Scan(&notC); err != nil || notC != 0 {
		t.Fatalf("text columns not C after 0017: %d, %v", notC, err)
	}
	if got := read(again); got != want {
		t.Fatalf("after 0017:\n%s\nwant:\n%s", got, want)
	}
	if _, err := again.StoreEvents(ctx, "t-1", []edge.Operation{storetest.Op("t-1", 8, edge.OpParcelHandedOver, "TRKa1", at)}, at); err != nil {
		t.Fatal(err)
	}
	if p, err := again.FindParcel(ctx, cloud.MerchantScope("acme"), "TRKa1"); err != nil || p.Status != cloud.StatusHandedOver {
		t.Errorf("TRKa1 after a handover ingested after 0017: %+v, %v", p, err)
	}
}
