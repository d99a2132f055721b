package cloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// TestVerifyReceipt runs cloud.Receipts on a Badger store: a terminal
// enrolled, decommissioned and enrolled again with a new key, deposits
// cancelled and made again.
func TestVerifyReceipt(t *testing.T) {
	ctx := context.Background()
	s, err := badgerstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	key := func(kid string) token.Key {
		k, err := token.GenerateKey(kid)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	enrol := func(k token.Key, at time.Time) {
		if err := s.CreateTerminal(ctx, cloud.Terminal{ID: k.ID, ReceiptPublicKey: token.EncodePublicKey(k.Public()), EnrolledAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	old, other := key("shop-1"), key("shop-2")
	enrol(old, t0)
	enrol(other, t0)
	gone := t0.Add(10 * time.Hour)
	if _, err := s.DecommissionTerminal(ctx, "shop-1", gone, "stolen"); err != nil {
		t.Fatal(err)
	}
	renewed := key("shop-1")
	enrol(renewed, gone.Add(time.Hour))
	// shop-3 is enrolled again with the key it had (the same data
	// directory): its receipts dated in the gap stay refused.
	kept := key("shop-3")
	enrol(kept, t0)
	if _, err := s.DecommissionTerminal(ctx, "shop-3", gone, "lost"); err != nil {
		t.Fatal(err)
	}
	enrol(kept, gone.Add(time.Hour))

	// The terminals' events: TRK-A deposited; TRK-C deposited then
	// cancelled, deposited again; TRK-D deposited by shop-1 and cancelled
	// by shop-2 (which does not hold it).
	seq := uint64(0)
	events := func(tid string, ops ...edge.Operation) {
		for i := range ops {
			seq++
			ops[i].Seq, ops[i].ID = seq, tid+"-"+string(rune('a'+seq))
		}
		if _, err := s.StoreEvents(ctx, tid, ops, gone); err != nil {
			t.Fatal(err)
		}
	}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	events("shop-1",
		storetest.Op("shop-1", 0, edge.OpReturnDeposited, "TRK-A", at(1)),
		storetest.Op("shop-1", 0, edge.OpReturnDeposited, "TRK-C", at(2)),
		storetest.Op("shop-1", 0, edge.OpReturnCancelled, "TRK-C", at(3)),
		storetest.Op("shop-1", 0, edge.OpReturnDeposited, "TRK-C", at(4)),
		storetest.Op("shop-1", 0, edge.OpReturnDeposited, "TRK-D", at(5)),
	)
	events("shop-2", storetest.Op("shop-2", 0, edge.OpReturnCancelled, "TRK-D", at(6)))

	sign := func(k token.Key, tracking string, at time.Time) string {
		tok, err := token.SignReceipt(k, edge.Receipt{ID: "r-" + tracking, Tracking: tracking, RelayPoint: k.ID, At: at, WeightG: 100, Parcels: 1})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name, token string
		valid       bool
		reason      string
		status      cloud.Status
	}{
		{"before decommissioning", sign(old, "TRK-A", at(1)), true, "", cloud.StatusDeposited},
		{"after decommissioning", sign(old, "TRK-A", gone.Add(time.Second)), false, cloud.ReceiptDecommissioned, cloud.StatusDeposited},
		{"at the second of decommissioning", sign(old, "TRK-A", gone), true, "", cloud.StatusDeposited},
		{"new key", sign(renewed, "TRK-N", gone.Add(2*time.Hour)), true, "", ""},
		{"new key dated before its enrolment", sign(renewed, "TRK-N", gone.Add(time.Hour-time.Minute)), true, "", ""},
		{"same key, first enrolment", sign(kept, "TRK-N", at(1)), true, "", ""},
		{"same key, in the gap", sign(kept, "TRK-N", gone.Add(time.Minute)), false, cloud.ReceiptDecommissioned, ""},
		{"same key, enrolled again", sign(kept, "TRK-N", gone.Add(time.Hour+time.Minute)), true, "", ""},
		{"same key, dated before any enrolment", sign(kept, "TRK-N", t0.Add(-time.Minute)), true, "", ""},
		{"cancelled deposit", sign(old, "TRK-C", at(2)), false, cloud.ReceiptCancelled, cloud.StatusDeposited},
		{"deposit after the cancel", sign(old, "TRK-C", at(4)), true, "", cloud.StatusDeposited},
		// The store keeps another terminal's cancel off the timeline (a
		// conflict): the deposit stands.
		{"cancel by another terminal", sign(old, "TRK-D", at(5)), true, "", cloud.StatusDeposited},
		{"another terminal's key", sign(token.Key{ID: "shop-1", Private: other.Private}, "TRK-A", at(1)), false, cloud.ReceiptBadSignature, ""},
		{"unknown terminal", sign(key("shop-9"), "TRK-A", at(1)), false, cloud.ReceiptUnknownTerminal, ""},
		{"not a token", "hello.world", false, cloud.ReceiptMalformed, ""},
		{"no kid", "eyJhbGciOiJFZERTQSJ9.e30.AAAA", false, cloud.ReceiptMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cloud.Receipts{Store: s}.Verify(ctx, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if got.Valid != tt.valid || got.Reason != tt.reason || got.Status != tt.status {
				t.Fatalf("Verify = %+v; want valid %v, reason %q, status %q", got, tt.valid, tt.reason, tt.status)
			}
			if signed := got.Receipt != nil; signed != (tt.valid || tt.reason == cloud.ReceiptCancelled || tt.reason == cloud.ReceiptDecommissioned) {
				t.Fatalf("claims shown = %v for %+v", signed, got)
			}
		})
	}
}

// FuzzVerifyReceipt: whatever the text, verification on a real store
// answers one of the reasons (or valid) and no error, and shows claims
// only for a genuine signature.
func FuzzVerifyReceipt(f *testing.F) {
	s, err := badgerstore.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	k, err := token.GenerateKey("shop-1")
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if err := s.CreateTerminal(context.Background(), cloud.Terminal{ID: "shop-1", ReceiptPublicKey: token.EncodePublicKey(k.Public()), EnrolledAt: at}); err != nil {
		f.Fatal(err)
	}
	good, err := token.SignReceipt(k, edge.Receipt{ID: "r-1", Tracking: "T1", At: at})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, good[:len(good)-2], "", ".", "..", "a.b.c", "eyJraWQiOiJzaG9wLTEifQ.e30.", "eyJraWQiOiJzaG9wLTEifQ.e30.AA"} {
		f.Add(seed)
	}
	reasons := map[string]bool{"": true, cloud.ReceiptMalformed: true, cloud.ReceiptUnknownTerminal: true, cloud.ReceiptBadSignature: true,
		cloud.ReceiptDecommissioned: true, cloud.ReceiptCancelled: true}
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := cloud.Receipts{Store: s}.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("Verify(%q): %v", tok, err)
		}
		if !reasons[got.Reason] || got.Valid != (got.Reason == "") {
			t.Fatalf("Verify(%q) = %+v", tok, got)
		}
		if (got.Receipt != nil) != (got.Valid || got.Reason == cloud.ReceiptCancelled || got.Reason == cloud.ReceiptDecommissioned) {
			t.Fatalf("Verify(%q) shows claims = %v for %+v", tok, got.Receipt != nil, got)
		}
	})
}
