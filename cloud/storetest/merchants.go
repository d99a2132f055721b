package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func testMerchants(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for _, id := range []string{"bolt", "acme"} {
		if err := s.CreateMerchant(ctx, cloud.Merchant{ID: id, Name: "Shop " + id, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "acme"}); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("second acme: %v, want CONFLICT", err)
	}
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "Bad Id"}); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("bad id: %v, want INVALID", err)
	}
	all, err := s.Merchants(ctx, cloud.Network)
	if err != nil || len(all) != 2 || all[0].ID != "acme" || all[1].ID != "bolt" || all[0].Name != "Shop acme" {
		t.Fatalf("Merchants = %+v, %v", all, err)
	}
	mine, err := s.Merchants(ctx, cloud.MerchantScope("bolt"))
	if err != nil || len(mine) != 1 || mine[0].ID != "bolt" {
		t.Fatalf("Merchants(bolt) = %+v, %v", mine, err)
	}
	if _, err := s.FindMerchant(ctx, cloud.MerchantScope("bolt"), "acme"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("another merchant: %v, want NOT_FOUND", err)
	}
	if m, err := s.FindMerchant(ctx, cloud.Network, "acme"); err != nil || !m.CreatedAt.Equal(t0) {
		t.Fatalf("FindMerchant = %+v, %v", m, err)
	}
}

func testSigningKeys(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	keys := []cloud.SigningKey{
		{ID: "k-1", Merchant: "acme", Issuer: "acme", Public: "pub1", Private: "seed1", CreatedAt: t0},
		{ID: "k-2", Merchant: "bolt", Issuer: "bolt", Public: "pub2", CreatedAt: t0.Add(time.Minute)},
		{ID: "k-3", Merchant: "acme", Issuer: "acme", Public: "pub3", Private: "seed3", CreatedAt: t0.Add(2 * time.Minute)},
	}
	for _, k := range keys {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSigningKey(ctx, cloud.SigningKey{ID: "k-1", Merchant: "bolt", Public: "x"}); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("kid of another merchant's key: %v, want CONFLICT", err)
	}
	if err := s.RetireSigningKey(ctx, "bolt", "k-1", t0); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("retire another merchant's key: %v, want NOT_FOUND", err)
	}
	if err := s.RetireSigningKey(ctx, "acme", "k-1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RetireSigningKey(ctx, "acme", "k-1", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err) // a second retirement keeps the first date
	}
	acme, err := s.SigningKeys(ctx, cloud.MerchantScope("acme"))
	if err != nil || len(acme) != 2 || acme[0].ID != "k-1" || acme[1].ID != "k-3" {
		t.Fatalf("SigningKeys(acme) = %+v, %v", acme, err)
	}
	if !acme[0].RetiredAt.Equal(t0.Add(time.Hour)) || !acme[1].RetiredAt.IsZero() || acme[0].Private != "seed1" || acme[0].Issuer != "acme" {
		t.Fatalf("acme's keys = %+v", acme)
	}
	all, err := s.SigningKeys(ctx, cloud.Network)
	if err != nil || len(all) != 3 || all[1].ID != "k-2" || all[1].Private != "" {
		t.Fatalf("SigningKeys = %+v, %v", all, err)
	}
	// Resealing: only a half the cloud holds, only from what it still is.
	if err := s.ResealSigningKey(ctx, "k-3", "seed3", "sealed-3"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ kid, was string }{{"k-3", "seed3"}, {"k-2", ""}, {"k-9", "seed9"}} {
		if err := s.ResealSigningKey(ctx, bad.kid, bad.was, "x"); edge.ErrorCode(err) != edge.ENOTFOUND {
			t.Errorf("reseal %s from %q: %v, want NOT_FOUND", bad.kid, bad.was, err)
		}
	}
	if acme, err = s.SigningKeys(ctx, cloud.MerchantScope("acme")); err != nil || acme[1].Private != "sealed-3" || acme[0].Private != "seed1" {
		t.Fatalf("after reseal: %+v, %v", acme, err)
	}
}

func testSecret(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	a, err := s.Secret(ctx, "link", func() []byte { return []byte("first") })
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Secret(ctx, "link", func() []byte { return []byte("second") })
	if err != nil || string(a) != "first" || string(b) != "first" {
		t.Fatalf("Secret = %q then %q, %v; want first twice", a, b, err)
	}
}

// deposit returns a return.deposited of terminal tid naming raID.
func deposit(tid string, seq uint64, tracking, raID string) edge.Operation {
	op := Op(tid, seq, edge.OpReturnDeposited, tracking, t0.Add(time.Duration(seq)*time.Minute))
	op.Data, _ = json.Marshal(edge.DepositData{RAID: raID, Verified: raID != ""})
	return op
}

func statuses(tb testing.TB, s cloud.Store, tracking string) string {
	tb.Helper()
	tl, err := s.Timeline(context.Background(), cloud.Network, tracking)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		out = append(out, string(e.Status)+"@"+e.Location)
	}
	return fmt.Sprint(out)
}

// testTerminalEventChecks: the events of DESIGN.md's "What the cloud
// believes" that disagree with their parcel are stored and acked, but
// kept off the timeline and listed as conflicts.
func testTerminalEventChecks(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-1", Merchant: "acme", Tracking: "TRK1", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// t-1 deposits TRK1 and a carrier's parcel with no return (CARRIER9).
	res := mustStore(t, s, "t-1", deposit("t-1", 1, "TRK1", "ra-1"), deposit("t-1", 2, "CARRIER9", ""))
	if len(res.Conflicts) != 0 || res.AckedSeq != 2 {
		t.Fatalf("t-1's deposits = %+v", res)
	}
	unknown := Op("t-2", 6, "parcel.teleported", "TRK1", t0)
	res = mustStore(t, s, "t-2",
		deposit("t-2", 1, "TRK1", "ra-1"),                                  // deposited by t-1 already
		Op("t-2", 2, edge.OpReturnCancelled, "TRK1", t0.Add(time.Hour)),    // t-2 does not hold it
		Op("t-2", 3, edge.OpParcelHandedOver, "TRK1", t0.Add(time.Hour)),   // nor this
		Op("t-2", 4, edge.OpParcelHandedOver, "NEVER1", t0.Add(time.Hour)), // never issued
		deposit("t-2", 5, "TRK2", "ra-missing"),                            // an RA that does not exist
		unknown,                                                            // unknown type
		deposit("t-2", 7, "TRK3", "ra-1"),                                  // ra-1 is TRK1's
		Op("t-2", 8, edge.OpReturnRefused, "", t0),                         // no parcel: agrees
	)
	if res.Stored != 8 || res.AckedSeq != 8 {
		t.Fatalf("t-2's batch = %+v, want all 8 stored and acked", res)
	}
	var got []string
	for _, c := range res.Conflicts {
		got = append(got, fmt.Sprintf("%d:%s", c.Seq, c.Reason))
	}
	want := "[1:ALREADY_DEPOSITED 2:NOT_HOLDER 3:NOT_HOLDER 4:NOT_HOLDER 5:UNKNOWN_RA 6:UNKNOWN_TYPE 7:UNKNOWN_RA]"
	if fmt.Sprint(got) != want {
		t.Fatalf("conflicts = %v, want %s", got, want)
	}
	if got := statuses(t, s, "TRK1"); got != "[created@ deposited@t-1]" {
		t.Fatalf("TRK1's timeline = %s", got)
	}
	for _, tr := range []string{"NEVER1", "TRK2", "TRK3"} {
		if got := statuses(t, s, tr); got != "[]" {
			t.Fatalf("timeline of %s = %s, want empty", tr, got)
		}
	}
	// The holder cancels, then the other terminal may take the parcel.
	mustStore(t, s, "t-1", Op("t-1", 3, edge.OpReturnCancelled, "TRK1", t0.Add(2*time.Hour)))
	if res := mustStore(t, s, "t-2", deposit("t-2", 9, "TRK1", "ra-1")); len(res.Conflicts) != 0 {
		t.Fatalf("deposit after the cancel: %+v", res.Conflicts)
	}
	if res := mustStore(t, s, "t-2", Op("t-2", 10, edge.OpParcelHandedOver, "TRK1", t0.Add(3*time.Hour))); len(res.Conflicts) != 0 {
		t.Fatalf("handover by the holder: %+v", res.Conflicts)
	}
	p, err := s.FindParcel(ctx, cloud.Network, "TRK1")
	if err != nil || p.Status != cloud.StatusHandedOver || p.Holder != "" || p.Merchant != "acme" {
		t.Fatalf("TRK1 = %+v, %v", p, err)
	}
	// Listed, in pages, and a resend adds none.
	mustStore(t, s, "t-2", unknown)
	page1, cur, err := s.Conflicts(ctx, "", 4)
	if err != nil || len(page1) != 4 || page1[0].Reason != cloud.ConflictAlreadyDeposited || page1[0].Terminal != "t-2" {
		t.Fatalf("Conflicts page 1 = %+v, %v", page1, err)
	}
	if page1[0].Parcel == nil || page1[0].Parcel.Holder != "t-1" {
		t.Fatalf("conflict's parcel = %+v, want held by t-1", page1[0].Parcel)
	}
	page2, _, err := s.Conflicts(ctx, cur, 10)
	if err != nil || len(page2) != 3 || page2[2].Reason != cloud.ConflictUnknownRA {
		t.Fatalf("Conflicts page 2 = %+v, %v", page2, err)
	}
}

// testChecksInSeqOrder: a handover that arrives before its deposit (a
// lost batch resent) waits for it rather than being a conflict.
func testChecksInSeqOrder(t *testing.T, s cloud.Store) {
	res := mustStore(t, s, "t-1", Op("t-1", 2, edge.OpParcelHandedOver, "C1", t0.Add(time.Hour)))
	if len(res.Conflicts) != 0 || res.AckedSeq != 0 {
		t.Fatalf("handover above a gap = %+v", res)
	}
	if got := statuses(t, s, "C1"); got != "[]" {
		t.Fatalf("timeline before the gap fills = %s", got)
	}
	res = mustStore(t, s, "t-1", deposit("t-1", 1, "C1", ""))
	if len(res.Conflicts) != 0 || res.AckedSeq != 2 {
		t.Fatalf("gap filled = %+v", res)
	}
	if got := statuses(t, s, "C1"); got != "[deposited@t-1 handed_over@t-1]" {
		t.Fatalf("timeline = %s", got)
	}
}

// testPartnerEntries: a partner's event goes through the check, in scope.
func testPartnerEntries(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if err := s.CreateReturn(ctx, cloud.Return{ID: "ra-1", Merchant: "acme", Tracking: "TRK1", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	e := cloud.TimelineEntry{Status: cloud.StatusInTransit, OccurredAt: t0.Add(time.Hour), ReceivedAt: t0.Add(time.Hour), Source: cloud.SourcePartner, EventID: "p-1"}
	calls := 0
	move := func(p cloud.Parcel) (cloud.Parcel, error) {
		calls++
		p.Status = cloud.StatusInTransit
		return p, nil
	}
	if _, err := s.AddPartnerEntry(ctx, cloud.MerchantScope("bolt"), "TRK1", e, move); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("another merchant's parcel: %v, want NOT_FOUND", err)
	}
	refuse := func(cloud.Parcel) (cloud.Parcel, error) { return cloud.Parcel{}, edge.Errorf(edge.ECONFLICT, "no") }
	if _, err := s.AddPartnerEntry(ctx, cloud.MerchantScope("acme"), "TRK1", e, refuse); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("refused: %v, want CONFLICT", err)
	}
	if got := statuses(t, s, "TRK1"); got != "[created@]" {
		t.Fatalf("timeline after a refusal = %s", got)
	}
	for i, want := range []bool{true, false} {
		added, err := s.AddPartnerEntry(ctx, cloud.MerchantScope("acme"), "TRK1", e, move)
		if err != nil || added != want {
			t.Fatalf("add %d = %v, %v; want %v", i, added, err, want)
		}
	}
	if calls != 1 {
		t.Fatalf("check called %d times, want once (not for the duplicate)", calls)
	}
	if p, err := s.FindParcel(ctx, cloud.Network, "TRK1"); err != nil || p.Status != cloud.StatusInTransit {
		t.Fatalf("parcel = %+v, %v", p, err)
	}
	if _, err := s.AddPartnerEntry(ctx, cloud.Network, "NEVER1", e, move); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("unknown parcel: %v, want NOT_FOUND", err)
	}
}

// testAdoptLegacy: keys of no merchant (stored before merchants) go to
// the merchant named, and it is idempotent.
func testAdoptLegacy(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if err := s.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret("op"), Role: cloud.RoleOperator}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.AdoptLegacy(ctx, "legacy"); err != nil {
			t.Fatal(err)
		}
	}
	if k, err := s.FindAPIKey(ctx, cloud.HashSecret("op")); err != nil || k.Merchant != "" {
		t.Fatalf("operator key = %+v, %v; want no merchant", k, err)
	}
	if err := s.AdoptLegacy(ctx, ""); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("no merchant: %v, want INVALID", err)
	}
}
