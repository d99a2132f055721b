// Package storetest is the contract suite of cloud.Store: every
// implementation runs it, so that they behave alike.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// Run runs the contract suite; open returns a new, empty store, closed by
// the suite.
func Run(t *testing.T, open func(t *testing.T) cloud.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s cloud.Store)
	}{
		{"IdempotentByID", testIdempotentByID},
		{"IdempotentByTerminalSeq", testIdempotentByTerminalSeq},
		{"WatermarkOutOfOrder", testWatermarkOutOfOrder},
		{"WatermarkPerTerminal", testWatermarkPerTerminal},
		{"RefusesForeignEvents", testRefusesForeignEvents},
		{"TimelineOrder", testTimelineOrder},
		{"TimelineEntryIdempotent", testTimelineEntryIdempotent},
		{"Returns", testReturns},
		{"Terminals", testTerminals},
		{"APIKeys", testAPIKeys},
		{"Revocations", testRevocations},
		{"ConcurrentTrackings", testConcurrentTrackings},
		{"Merchants", testMerchants},
		{"SigningKeys", testSigningKeys},
		{"Secret", testSecret},
		{"TerminalEventChecks", testTerminalEventChecks},
		{"ChecksInSeqOrder", testChecksInSeqOrder},
		{"PartnerEntries", testPartnerEntries},
		{"AdoptLegacy", testAdoptLegacy},
		{"ConcurrentBatches", testConcurrentBatches},
		{"Decommission", testDecommission},
		{"SeqFloor", testSeqFloor},
		{"DeadLetterPages", testDeadLetterPages},
		{"DeadLetterPrune", testDeadLetterPrune},
		{"Outbox", testOutbox},
		{"OutboxGap", testOutboxGap},
		{"OutboxCursorUnderLoad", testOutboxCursorUnderLoad},
		{"OutboxTimes", testOutboxTimes},
		{"OutboxPrune", testOutboxPrune},
		{"ParcelEvents", testParcelEvents},
		{"Webhooks", testWebhooks},
		{"ReturnsReport", testReturnsReport},
		{"DropOffMovedWithinBucket", testDropOffMovedWithinBucket},
		{"StuckParcels", testStuckParcels},
		{"StuckOldestFirst", testStuckOldestFirst},
		{"Statements", testStatements},
		{"Refusals", testRefusals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// Op returns an operation of terminal tid with the given seq, type and
// tracking; its id is derived from tid and seq.
func Op(tid string, seq uint64, typ edge.OpType, tracking string, at time.Time) edge.Operation {
	return edge.Operation{
		ID: fmt.Sprintf("%s-%d", tid, seq), Terminal: tid, Seq: seq, Type: typ,
		OccurredAt: at, Tracking: tracking, Data: json.RawMessage(`{}`),
	}
}

func mustStore(t *testing.T, s cloud.Store, tid string, evs ...edge.Operation) cloud.Ingested {
	t.Helper()
	res, err := s.StoreEvents(context.Background(), tid, evs, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("StoreEvents: %v", err)
	}
	return res
}

func testIdempotentByID(t *testing.T, s cloud.Store) {
	a := Op("t-1", 1, edge.OpReturnDeposited, "XY1", t0)
	b := Op("t-1", 2, edge.OpReturnRefused, "", t0)
	if got := mustStore(t, s, "t-1", a, b); got.Stored != 2 || got.Duplicates != 0 || got.AckedSeq != 2 {
		t.Fatalf("first store = %+v, want 2 stored, acked 2", got)
	}
	if got := mustStore(t, s, "t-1", a, b); got.Stored != 0 || got.Duplicates != 2 || got.AckedSeq != 2 {
		t.Fatalf("resend = %+v, want 2 duplicates", got)
	}
	// The same id under a new seq counts once in the timeline.
	c := a
	c.Seq = 3
	if got := mustStore(t, s, "t-1", c); got.Duplicates != 1 || got.AckedSeq != 3 {
		t.Fatalf("same id, new seq = %+v, want a duplicate and acked 3", got)
	}
	tl, err := s.Timeline(context.Background(), cloud.Network, "XY1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 1 || tl[0].Status != cloud.StatusDeposited || tl[0].EventID != a.ID {
		t.Fatalf("timeline = %+v, want one deposited entry", tl)
	}
}

func testIdempotentByTerminalSeq(t *testing.T, s cloud.Store) {
	a := Op("t-1", 1, edge.OpReturnDeposited, "XY1", t0)
	mustStore(t, s, "t-1", a)
	b := a
	b.ID = "another-id"
	if got := mustStore(t, s, "t-1", b); got.Stored != 0 || got.Duplicates != 1 {
		t.Fatalf("same seq, new id = %+v, want a duplicate", got)
	}
	// A duplicate within one batch counts once.
	c := Op("t-1", 2, edge.OpReturnRefused, "", t0)
	if got := mustStore(t, s, "t-1", c, c); got.Stored != 1 || got.Duplicates != 1 {
		t.Fatalf("batch with a repeat = %+v, want 1 stored, 1 duplicate", got)
	}
}

func testWatermarkOutOfOrder(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if err := s.CreateTerminal(ctx, cloud.Terminal{ID: "t-1", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		seqs []uint64
		want uint64
	}{
		{[]uint64{2, 3}, 0},
		{[]uint64{5}, 0},
		{[]uint64{1}, 3},
		{[]uint64{6}, 3},
		{[]uint64{4}, 6},
		{[]uint64{3, 7}, 7},
	}
	for i, st := range steps {
		var evs []edge.Operation
		for _, q := range st.seqs {
			evs = append(evs, Op("t-1", q, edge.OpReturnRefused, "", t0))
		}
		if got := mustStore(t, s, "t-1", evs...); got.AckedSeq != st.want {
			t.Fatalf("step %d (%v): acked_seq = %d, want %d", i, st.seqs, got.AckedSeq, st.want)
		}
	}
	term, err := s.FindTerminal(ctx, "t-1")
	if err != nil {
		t.Fatal(err)
	}
	if term.AckedSeq != 7 {
		t.Fatalf("FindTerminal acked_seq = %d, want 7", term.AckedSeq)
	}
}

func testWatermarkPerTerminal(t *testing.T, s cloud.Store) {
	mustStore(t, s, "t-1", Op("t-1", 1, edge.OpReturnRefused, "", t0), Op("t-1", 2, edge.OpReturnRefused, "", t0))
	if got := mustStore(t, s, "t-10", Op("t-10", 2, edge.OpReturnRefused, "", t0)); got.AckedSeq != 0 {
		t.Fatalf("t-10 acked_seq = %d, want 0 (its seq 1 is missing)", got.AckedSeq)
	}
}

func testRefusesForeignEvents(t *testing.T, s cloud.Store) {
	_, err := s.StoreEvents(context.Background(), "t-1", []edge.Operation{Op("t-2", 1, edge.OpReturnRefused, "", t0)}, t0)
	if edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
}

func testTimelineOrder(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	// Events arrive out of order; the timeline follows occurred_at.
	mustStore(t, s, "t-1", Op("t-1", 2, edge.OpParcelHandedOver, "XY1", t0.Add(2*time.Hour)))
	mustStore(t, s, "t-1", Op("t-1", 1, edge.OpReturnDeposited, "XY1", t0.Add(time.Hour)))
	mustStore(t, s, "t-1", Op("t-1", 3, edge.OpManifestClosed, "XY1", t0.Add(3*time.Hour)))
	if _, err := s.AddTimelineEntry(ctx, "XY1", cloud.TimelineEntry{Status: cloud.StatusCreated, OccurredAt: t0, ReceivedAt: t0, Source: cloud.SourceIssuer, EventID: "ra-1"}); err != nil {
		t.Fatal(err)
	}
	// Same occurred_at: received_at decides.
	late := cloud.TimelineEntry{Status: cloud.StatusInTransit, OccurredAt: t0.Add(4 * time.Hour), ReceivedAt: t0.Add(6 * time.Hour), Source: cloud.SourcePartner, EventID: "p-2"}
	early := cloud.TimelineEntry{Status: cloud.StatusReceivedAtWarehouse, OccurredAt: t0.Add(4 * time.Hour), ReceivedAt: t0.Add(5 * time.Hour), Source: cloud.SourcePartner, EventID: "p-1"}
	for _, e := range []cloud.TimelineEntry{late, early} {
		if _, err := s.AddTimelineEntry(ctx, "XY1", e); err != nil {
			t.Fatal(err)
		}
	}
	tl, err := s.Timeline(ctx, cloud.Network, "XY1")
	if err != nil {
		t.Fatal(err)
	}
	var got []cloud.Status
	for _, e := range tl {
		got = append(got, e.Status)
	}
	want := []cloud.Status{cloud.StatusCreated, cloud.StatusDeposited, cloud.StatusHandedOver, cloud.StatusReceivedAtWarehouse, cloud.StatusInTransit}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("timeline = %v, want %v", got, want)
	}
	if tl[1].Source != "terminal:t-1" || tl[1].Location != "t-1" || !tl[1].ReceivedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("deposited entry = %+v", tl[1])
	}
	if other, err := s.Timeline(ctx, cloud.Network, "XY"); err != nil || len(other) != 0 {
		t.Fatalf("timeline of a prefix = %v, %v; want empty", other, err)
	}
}

func testTimelineEntryIdempotent(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	e := cloud.TimelineEntry{Status: cloud.StatusInTransit, OccurredAt: t0, ReceivedAt: t0, Source: cloud.SourcePartner, EventID: "p-1"}
	for i, want := range []bool{true, false} {
		added, err := s.AddTimelineEntry(ctx, "XY1", e)
		if err != nil || added != want {
			t.Fatalf("add %d = %v, %v; want %v", i, added, err, want)
		}
	}
	if _, err := s.AddTimelineEntry(ctx, "XY1", cloud.TimelineEntry{Status: "lost", EventID: "p-2"}); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("unknown status: err = %v, want EINVALID", err)
	}
}

func testReturns(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	r := cloud.Return{ID: "ra-1", Merchant: "acme", Tracking: "XY1", Token: "tok", CreatedAt: t0}
	if err := s.CreateReturn(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReturn(ctx, r); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("second create: %v, want CONFLICT", err)
	}
	for _, scope := range []cloud.Scope{cloud.Network, cloud.MerchantScope("acme")} {
		got, err := s.FindReturn(ctx, scope, "ra-1")
		if err != nil || got.Token != "tok" || got.Tracking != "XY1" || got.Merchant != "acme" {
			t.Fatalf("FindReturn(%v) = %+v, %v", scope, got, err)
		}
	}
	if _, err := s.FindReturn(ctx, cloud.MerchantScope("bolt"), "ra-1"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("another merchant's return: %v, want NOT_FOUND", err)
	}
	if _, err := s.FindReturn(ctx, cloud.Network, "ra-2"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("missing return: %v, want NOT_FOUND", err)
	}
	// The tracking number is taken, by any merchant.
	for _, m := range []string{"acme", "bolt"} {
		again := cloud.Return{ID: "ra-" + m, Merchant: m, Tracking: "XY1", CreatedAt: t0}
		if err := s.CreateReturn(ctx, again); edge.ErrorCode(err) != cloud.ETrackingTaken {
			t.Fatalf("tracking reused by %s: %v, want TRACKING_TAKEN", m, err)
		}
	}
	tl, err := s.Timeline(ctx, cloud.MerchantScope("acme"), "XY1")
	if err != nil || len(tl) != 1 || tl[0].Status != cloud.StatusCreated || tl[0].EventID != "ra-1" {
		t.Fatalf("timeline = %+v, %v; want one created entry", tl, err)
	}
	if _, err := s.Timeline(ctx, cloud.MerchantScope("bolt"), "XY1"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("another merchant's timeline: %v, want NOT_FOUND", err)
	}
	p, err := s.FindParcel(ctx, cloud.MerchantScope("acme"), "XY1")
	if err != nil || p.Status != cloud.StatusCreated || p.RAID != "ra-1" || p.Merchant != "acme" {
		t.Fatalf("FindParcel = %+v, %v", p, err)
	}
	if _, err := s.FindParcel(ctx, cloud.MerchantScope("bolt"), "XY1"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("another merchant's parcel: %v, want NOT_FOUND", err)
	}
}

// testConcurrentTrackings creates returns of one tracking number from many
// callers at once: exactly one wins.
func testConcurrentTrackings(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- s.CreateReturn(ctx, cloud.Return{ID: fmt.Sprintf("ra-%d", i), Merchant: "acme", Tracking: "SAME1", CreatedAt: t0})
		}()
	}
	won := 0
	for range n {
		switch err := <-errs; edge.ErrorCode(err) {
		case "":
			won++
		case cloud.ETrackingTaken:
		default:
			t.Errorf("CreateReturn: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d returns of one tracking number stored, want 1", won, n)
	}
}

func testTerminals(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for _, id := range []string{"t-2", "t-1"} {
		if err := s.CreateTerminal(ctx, cloud.Terminal{ID: id, Name: "Shop " + id, PasswordHash: cloud.HashSecret("pw-" + id), EnrolledAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTerminal(ctx, cloud.Terminal{ID: "t-1"}); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("re-enrol: %v, want CONFLICT", err)
	}
	status := json.RawMessage(`{"v":1,"online":true,"outbox_pending":4}`)
	if err := s.UpdateTerminalStatus(ctx, "t-1", cloud.StatusUpdate{Online: true, Status: status, SeenAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// A last will marks it offline and keeps the last status.
	if err := s.UpdateTerminalStatus(ctx, "t-1", cloud.StatusUpdate{Online: false}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindTerminal(ctx, "t-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Online || got.WireStatus().OutboxPending != 4 || !got.LastSeen.Equal(t0.Add(time.Minute)) || string(got.PasswordHash) != string(cloud.HashSecret("pw-t-1")) {
		t.Fatalf("terminal = %+v", got)
	}
	if err := s.UpdateTerminalStatus(ctx, "t-9", cloud.StatusUpdate{Online: true}); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("status of unknown terminal: %v, want NOT_FOUND", err)
	}
	all, err := s.Terminals(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "t-1" || all[1].ID != "t-2" {
		t.Fatalf("Terminals = %+v, %v", all, err)
	}
}

func testAPIKeys(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if n, err := s.CountAPIKeys(ctx); err != nil || n != 0 {
		t.Fatalf("CountAPIKeys = %d, %v; want 0", n, err)
	}
	if err := s.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret("k1"), Role: cloud.RoleOperator}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret("k2"), Role: "root"}); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("unknown role: %v, want INVALID", err)
	}
	k, err := s.FindAPIKey(ctx, cloud.HashSecret("k1"))
	if err != nil || k.Role != cloud.RoleOperator {
		t.Fatalf("FindAPIKey = %+v, %v", k, err)
	}
	if _, err := s.FindAPIKey(ctx, cloud.HashSecret("k3")); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("unknown key: %v, want NOT_FOUND", err)
	}
	if n, err := s.CountAPIKeys(ctx); err != nil || n != 1 {
		t.Fatalf("CountAPIKeys = %d, %v; want 1", n, err)
	}
	if err := s.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret("k2"), Role: cloud.RolePartner, Name: "carrier"}); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("partner key of no merchant: %v, want INVALID", err)
	}
	if err := s.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret("k2"), Role: cloud.RolePartner, Name: "carrier", Merchant: "acme"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.APIKeys(ctx)
	if err != nil || len(all) != 2 || bytes.Compare(all[0].Hash, all[1].Hash) >= 0 {
		t.Fatalf("APIKeys = %+v, %v; want 2 sorted by hash", all, err)
	}
	if err := s.DeleteAPIKey(ctx, cloud.HashSecret("k1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindAPIKey(ctx, cloud.HashSecret("k1")); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("deleted key: %v, want NOT_FOUND", err)
	}
	if err := s.DeleteAPIKey(ctx, cloud.HashSecret("k1")); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("delete twice: %v, want NOT_FOUND", err)
	}
	if k, err := s.FindAPIKey(ctx, cloud.HashSecret("k2")); err != nil || k.Merchant != "acme" || k.Scope() != cloud.MerchantScope("acme") {
		t.Fatalf("partner key = %+v, %v; want acme's", k, err)
	}
	if all, err := s.APIKeys(ctx); err != nil || len(all) != 1 || all[0].Name != "carrier" || all[0].Role != cloud.RolePartner {
		t.Fatalf("APIKeys after delete = %+v, %v", all, err)
	}
}

func testRevocations(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for _, id := range []string{"ra-1", "ra-2", "ra-3"} {
		if err := s.CreateReturn(ctx, cloud.Return{ID: id, Merchant: "acme", Tracking: "T" + id, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"ra-2", "ra-1", "ra-2"} {
		if err := s.Revoke(ctx, cloud.MerchantScope("acme"), id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Revoke(ctx, cloud.MerchantScope("bolt"), "ra-3"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("another merchant's return: %v, want NOT_FOUND", err)
	}
	if err := s.Revoke(ctx, cloud.Network, "ra-9"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("unknown return: %v, want NOT_FOUND", err)
	}
	got, err := s.Revocations(ctx)
	if err != nil || fmt.Sprint(got) != "[ra-1 ra-2]" {
		t.Fatalf("Revocations = %v, %v; want [ra-1 ra-2]", got, err)
	}
	if err := s.Revoke(ctx, cloud.Network, ""); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("empty id: %v, want INVALID", err)
	}
}

// testConcurrentBatches stores batches from many callers at once, as the
// ingest's workers do (the stores commit the batches waiting together):
// every caller gets its own counts and watermark, a batch sent twice at once
// counts once, and a batch the store cannot take (an event id of 70,000
// bytes: over Badger's key limit and PostgreSQL's index row) fails alone.
func testConcurrentBatches(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const terminals, rounds, size = 24, 5, 20
	for round := range rounds {
		var wg sync.WaitGroup
		results := make(chan cloud.Ingested, 2*terminals)
		for n := range terminals {
			tid := fmt.Sprintf("t-%02d", n)
			evs := make([]edge.Operation, size)
			for i := range evs {
				evs[i] = Deposit(tid, uint64(round*size+i+1), at)
			}
			// Even terminals send their batch twice at once (a resend
			// racing the original).
			for range 1 + (n+1)%2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := s.StoreEvents(ctx, tid, evs, at)
					if err != nil {
						t.Errorf("%s: %v", tid, err)
						return
					}
					results <- res
				}()
			}
		}
		bad := Deposit("t-bad", uint64(round+1), at)
		bad.ID = noise(70000) // incompressible, so PostgreSQL cannot shrink it to fit
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.StoreEvents(ctx, "t-bad", []edge.Operation{bad}, at); err == nil {
				t.Error("an event id of 70,000 bytes was stored")
			}
		}()
		wg.Wait()
		close(results)
		var stored, dups int
		for res := range results {
			stored, dups = stored+res.Stored, dups+res.Duplicates
			if res.AckedSeq != uint64((round+1)*size) {
				t.Errorf("round %d: acked_seq %d, want %d", round, res.AckedSeq, (round+1)*size)
			}
		}
		if stored != terminals*size || dups != terminals/2*size {
			t.Fatalf("round %d: %d stored, %d duplicates; want %d and %d", round, stored, dups, terminals*size, terminals/2*size)
		}
	}
	for n := range terminals {
		tid := fmt.Sprintf("t-%02d", n)
		tl, err := s.Timeline(ctx, cloud.Network, fmt.Sprintf("LG%s%07dFR", tid[len(tid)-4:], 1))
		if err != nil || len(tl) != 1 || tl[0].EventID != tid+"-1" || tl[0].Location != tid {
			t.Fatalf("timeline of %s's first deposit = %+v, %v", tid, tl, err)
		}
	}
}

// noise returns n pseudo-random letters.
func noise(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}
