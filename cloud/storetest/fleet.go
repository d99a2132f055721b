package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// testDecommission takes a terminal out of service and enrols it again
// twice: the registry keeps when and why, drops the password, refuses a
// second decommissioning and an enrolment over a terminal in service, and
// keeps every receipt key with its period, newest first.
func testDecommission(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if _, err := s.DecommissionTerminal(ctx, "t-9", t0, "stolen"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("decommission unknown terminal: %v, want NOT_FOUND", err)
	}
	enrol := func(key string, at time.Time) error {
		return s.CreateTerminal(ctx, cloud.Terminal{ID: "t-1", Name: "Shop " + key, ReceiptPublicKey: key, PasswordHash: cloud.HashSecret("pw-" + key), EnrolledAt: at})
	}
	if err := enrol("key-1", t0); err != nil {
		t.Fatal(err)
	}
	mustStore(t, s, "t-1", Op("t-1", 1, edge.OpReturnRefused, "", t0))
	if err := s.UpdateTerminalStatus(ctx, "t-1", cloud.StatusUpdate{Online: true, Status: []byte(`{"v":1,"online":true}`), SeenAt: t0}); err != nil {
		t.Fatal(err)
	}
	gone := t0.Add(24 * time.Hour)
	got, err := s.DecommissionTerminal(ctx, "t-1", gone, "stolen")
	if err != nil {
		t.Fatal(err)
	}
	if !got.DecommissionedAt.Equal(gone) || got.DecommissionReason != "stolen" || got.PasswordHash != nil || got.Online || got.AckedSeq != 1 {
		t.Fatalf("decommissioned = %+v", got)
	}
	if _, err := s.DecommissionTerminal(ctx, "t-1", gone.Add(time.Hour), "again"); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("decommission twice: %v, want CONFLICT", err)
	}
	if err := s.UpdateTerminalStatus(ctx, "t-1", cloud.StatusUpdate{Online: false}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Terminals(ctx)
	if err != nil || len(all) != 1 || !all[0].DecommissionedAt.Equal(gone) || all[0].DecommissionReason != "stolen" || all[0].PasswordHash != nil {
		t.Fatalf("Terminals = %+v, %v; want t-1 decommissioned", all, err)
	}

	back := gone.Add(time.Hour)
	if err := enrol("key-2", back); err != nil {
		t.Fatalf("re-enrol a decommissioned terminal: %v", err)
	}
	if err := enrol("key-x", back); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("enrol over a terminal in service: %v, want CONFLICT", err)
	}
	gone2 := back.Add(time.Hour)
	if _, err := s.DecommissionTerminal(ctx, "t-1", gone2, "broken"); err != nil {
		t.Fatal(err)
	}
	if err := enrol("key-3", gone2.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = s.FindTerminal(ctx, "t-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Decommissioned() || got.DecommissionReason != "" || got.Name != "Shop key-3" || string(got.PasswordHash) != string(cloud.HashSecret("pw-key-3")) || got.AckedSeq != 1 {
		t.Fatalf("re-enrolled = %+v", got)
	}
	want := []cloud.ReceiptKey{
		{PublicKey: "key-3", From: gone2.Add(time.Hour)},
		{PublicKey: "key-2", From: back, Until: gone2},
		{PublicKey: "key-1", From: t0, Until: gone},
	}
	keys := got.ReceiptKeys()
	if len(keys) != len(want) {
		t.Fatalf("receipt keys = %+v, want %+v", keys, want)
	}
	for i, k := range keys {
		if k.PublicKey != want[i].PublicKey || !k.From.Equal(want[i].From) || !k.Until.Equal(want[i].Until) {
			t.Fatalf("receipt key %d = %+v, want %+v", i, k, want[i])
		}
	}
}
