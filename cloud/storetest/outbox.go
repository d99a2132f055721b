package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// feed reads every event in scope after the cursor, in pages of limit.
func feed(tb testing.TB, s cloud.Store, scope cloud.Scope, after uint64, limit int) ([]cloud.Event, uint64) {
	tb.Helper()
	var all []cloud.Event
	for {
		page, last, err := s.Events(context.Background(), scope, after, limit)
		if err != nil {
			tb.Fatalf("Events: %v", err)
		}
		if len(page) == 0 {
			if last != after {
				tb.Fatalf("empty page moved the cursor from %d to %d", after, last)
			}
			return all, after
		}
		if len(page) > limit {
			tb.Fatalf("page of %d, limit %d", len(page), limit)
		}
		all, after = append(all, page...), last
	}
}

// summary lists events as type:tracking.
func summary(evs []cloud.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type+":"+e.Tracking)
	}
	return strings.Join(out, " ")
}

// testOutbox: every entry that reaches a timeline is published, once, in
// the order it got there, with its data; a merchant reads only its own,
// operators all; conflicts and duplicates publish nothing.
func testOutbox(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if h, err := s.EventsHead(ctx); err != nil || h != 0 {
		t.Fatalf("head of an empty outbox = %d, %v", h, err)
	}
	for _, r := range []cloud.Return{
		{ID: "ra-a", Merchant: "acme", Tracking: "TRKA", CreatedAt: t0},
		{ID: "ra-b", Merchant: "bolt", Tracking: "TRKB", CreatedAt: t0},
	} {
		if err := s.CreateReturn(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	depA := deposit("t-1", 1, "TRKA", "ra-a")
	depA.Data, _ = json.Marshal(edge.DepositData{RAID: "ra-a", ReceiptID: "rcpt-1"})
	mustStore(t, s, "t-1", depA, deposit("t-1", 2, "TRKB", "ra-b"), deposit("t-1", 3, "CARRIER1", ""))
	// A second deposit of TRKA elsewhere is a conflict, a resend a
	// duplicate: neither is published.
	mustStore(t, s, "t-2", deposit("t-2", 1, "TRKA", "ra-a"))
	mustStore(t, s, "t-1", depA)
	mustStore(t, s, "t-1", Op("t-1", 4, edge.OpParcelHandedOver, "TRKA", t0.Add(time.Hour)))
	e := cloud.TimelineEntry{Status: cloud.StatusInTransit, OccurredAt: t0.Add(2 * time.Hour), ReceivedAt: t0.Add(2 * time.Hour), Location: "hub", Source: cloud.SourcePartner, EventID: "p-1"}
	move := func(p cloud.Parcel) (cloud.Parcel, error) { p.Status = cloud.StatusInTransit; return p, nil }
	for range 2 {
		if _, err := s.AddPartnerEntry(ctx, cloud.MerchantScope("acme"), "TRKA", e, move); err != nil {
			t.Fatal(err)
		}
	}

	all, _ := feed(t, s, cloud.Network, 0, 100)
	want := "return.created:TRKA return.created:TRKB return.deposited:TRKA return.deposited:TRKB " +
		"return.deposited:CARRIER1 parcel.handed_over:TRKA parcel.in_transit:TRKA"
	if got := summary(all); got != want {
		t.Fatalf("network feed = %s\nwant %s", got, want)
	}
	if h, err := s.EventsHead(ctx); err != nil || h != all[len(all)-1].Seq {
		t.Fatalf("head = %d, %v; want %d", h, err, all[len(all)-1].Seq)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("seq %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
	acme, _ := feed(t, s, cloud.MerchantScope("acme"), 0, 1)
	if got, want := summary(acme), "return.created:TRKA return.deposited:TRKA parcel.handed_over:TRKA parcel.in_transit:TRKA"; got != want {
		t.Fatalf("acme's feed = %s\nwant %s", got, want)
	}
	if got, want := summary(mustFeed(t, s, "bolt")), "return.created:TRKB return.deposited:TRKB"; got != want {
		t.Fatalf("bolt's feed = %s\nwant %s", got, want)
	}
	if got := mustFeed(t, s, "nobody"); len(got) != 0 {
		t.Fatalf("a merchant with no parcel reads %s", summary(got))
	}
	wantData := []cloud.EventData{
		{Tracking: "TRKA", RAID: "ra-a", OccurredAt: t0, Status: cloud.StatusCreated},
		{Tracking: "TRKA", RAID: "ra-a", OccurredAt: depA.OccurredAt, Status: cloud.StatusDeposited, RelayPoint: "t-1", ReceiptID: "rcpt-1"},
		{Tracking: "TRKA", RAID: "ra-a", OccurredAt: t0.Add(time.Hour), Status: cloud.StatusHandedOver, RelayPoint: "t-1"},
		{Tracking: "TRKA", RAID: "ra-a", OccurredAt: t0.Add(2 * time.Hour), Status: cloud.StatusInTransit, Location: "hub"},
	}
	wantIDs := []string{"ra-a", depA.ID, "t-1-4", "p-1"}
	for i, ev := range acme {
		if ev.ID != wantIDs[i] || ev.Merchant != "acme" || ev.Data != wantData[i] || !ev.OccurredAt.Equal(wantData[i].OccurredAt) {
			t.Errorf("acme's event %d = %+v\nwant id %s, data %+v", i, ev, wantIDs[i], wantData[i])
		}
	}
	if all[4].Merchant != "" || all[4].Data.RAID != "" {
		t.Errorf("a carrier's parcel's event = %+v, want no merchant, no RA", all[4])
	}
	// The cursor: after the last event, nothing; after the third of
	// acme's, the fourth.
	if rest, _ := feed(t, s, cloud.Network, all[len(all)-1].Seq, 10); len(rest) != 0 {
		t.Fatalf("after the last: %s", summary(rest))
	}
	if rest, last, err := s.Events(ctx, cloud.Network, 1<<64-1, 10); err != nil || len(rest) != 0 || last != 1<<64-1 {
		t.Fatalf("after the largest position: %s, %d, %v", summary(rest), last, err)
	}
	if rest, _ := feed(t, s, cloud.MerchantScope("acme"), acme[2].Seq, 10); summary(rest) != "parcel.in_transit:TRKA" {
		t.Fatalf("after acme's third: %s", summary(rest))
	}
}

func mustFeed(t *testing.T, s cloud.Store, merchant string) []cloud.Event {
	t.Helper()
	evs, _ := feed(t, s, cloud.MerchantScope(merchant), 0, 100)
	return evs
}

// testOutboxGap: an event above a gap is published when the gap fills,
// after the events below it.
func testOutboxGap(t *testing.T, s cloud.Store) {
	mustStore(t, s, "t-1", Op("t-1", 2, edge.OpParcelHandedOver, "GAP1", t0.Add(time.Hour)))
	if evs, _ := feed(t, s, cloud.Network, 0, 10); len(evs) != 0 {
		t.Fatalf("above a gap: %s", summary(evs))
	}
	mustStore(t, s, "t-1", deposit("t-1", 1, "GAP1", ""))
	if evs, _ := feed(t, s, cloud.Network, 0, 10); summary(evs) != "return.deposited:GAP1 parcel.handed_over:GAP1" {
		t.Fatalf("gap filled: %s", summary(evs))
	}
}

// testOutboxCursorUnderLoad: a reader following the cursor while returns,
// terminals' batches and partners' events are written at once sees every
// event exactly once: no event becomes visible behind a cursor that has
// passed it.
func testOutboxCursorUnderLoad(t *testing.T, s cloud.Store) {
	CursorUnderLoad(t, s, s)
}

// CursorUnderLoad is testOutboxCursorUnderLoad with its four writers
// spread over stores (of one database, as instances of one cloud would
// be) and its reader on reader: the stores at once keep the feed's
// promise. The head is then the last event's position.
func CursorUnderLoad(t *testing.T, reader cloud.Store, stores ...cloud.Store) {
	ctx := context.Background()
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		s := stores[w%len(stores)]
		go func() {
			defer wg.Done()
			tid := fmt.Sprintf("t-%d", w)
			for i := range each {
				tr, ra := fmt.Sprintf("LOAD%d-%d", w, i), fmt.Sprintf("ra-%d-%d", w, i)
				if err := s.CreateReturn(ctx, cloud.Return{ID: ra, Merchant: "acme", Tracking: tr, CreatedAt: t0}); err != nil {
					errs <- err
					return
				}
				op := deposit(tid, uint64(i+1), tr, ra)
				if _, err := s.StoreEvents(ctx, tid, []edge.Operation{op}, t0.Add(time.Hour)); err != nil {
					errs <- err
					return
				}
				e := cloud.TimelineEntry{Status: cloud.StatusInTransit, OccurredAt: t0.Add(time.Hour), ReceivedAt: t0.Add(time.Hour), Source: cloud.SourcePartner, EventID: "p-" + tr}
				if _, err := s.AddPartnerEntry(ctx, cloud.Network, tr, e, func(p cloud.Parcel) (cloud.Parcel, error) { return p, nil }); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{}
	var after uint64
	for finished := false; !finished; {
		// The last pass starts after the writers are done, and reads what
		// they committed last.
		select {
		case <-done:
			finished = true
		default:
		}
		var page []cloud.Event
		page, after = feed(t, reader, cloud.MerchantScope("acme"), after, 7)
		for _, ev := range page {
			if seen[ev.ID]++; seen[ev.ID] > 1 {
				t.Fatalf("event %s read twice", ev.ID)
			}
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if len(seen) != writers*each*3 {
		t.Fatalf("read %d events, want %d: the cursor passed some", len(seen), writers*each*3)
	}
	if head, err := reader.EventsHead(ctx); err != nil || head != after {
		t.Fatalf("head = %d, %v; want the last event's %d", head, err, after)
	}
}

// testParcelEvents: the events of one parcel are those of the feed, in the
// timeline's order, with an in-store receipt's grading; another merchant's
// parcel, or an unknown one, is ENOTFOUND.
func testParcelEvents(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for _, r := range []cloud.Return{
		{ID: "ra-a", Merchant: "acme", Tracking: "TRKA", CreatedAt: t0},
		{ID: "ra-b", Merchant: "bolt", Tracking: "TRKB", CreatedAt: t0},
		{ID: "ra-c", Merchant: "acme", Tracking: "TRKC", CreatedAt: t0},
	} {
		if err := s.CreateReturn(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Stored out of time order: the handover first, in another batch.
	mustStore(t, s, "t-1", deposit("t-1", 1, "TRKB", "ra-b"))
	mustStore(t, s, "t-1", Op("t-1", 3, edge.OpParcelHandedOver, "TRKA", t0.Add(time.Hour)), deposit("t-1", 2, "TRKA", "ra-a"))
	in := Op("t-1", 4, edge.OpInstoreReceived, "TRKC", t0.Add(time.Minute))
	grading := edge.InstoreData{RAID: "ra-c", Resolution: edge.ResolutionRefund, Items: []edge.InstoreItem{
		{SKU: "SKU-1", Qty: 1, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock},
		{SKU: "SKU-2", Qty: 2, Condition: edge.ConditionDamaged, Disposition: edge.DispositionRecycle},
	}}
	in.Data, _ = json.Marshal(grading)
	mustStore(t, s, "t-1", in)
	e := cloud.TimelineEntry{Status: cloud.StatusInTransit, OccurredAt: t0.Add(2 * time.Hour), ReceivedAt: t0.Add(2 * time.Hour), Location: "hub", Source: cloud.SourcePartner, EventID: "p-1"}
	if _, err := s.AddPartnerEntry(ctx, cloud.MerchantScope("acme"), "TRKA", e, func(p cloud.Parcel) (cloud.Parcel, error) { return p, nil }); err != nil {
		t.Fatal(err)
	}

	got, err := s.ParcelEvents(ctx, cloud.MerchantScope("acme"), "TRKA")
	if err != nil {
		t.Fatal(err)
	}
	if want := "return.created:TRKA return.deposited:TRKA parcel.handed_over:TRKA parcel.in_transit:TRKA"; summary(got) != want {
		t.Fatalf("TRKA's events = %s\nwant %s", summary(got), want)
	}
	// The same events as the feed's, in the timeline's order.
	byID := map[string]cloud.Event{}
	for _, ev := range mustFeed(t, s, "acme") {
		ev.Seq = 0
		byID[ev.ID] = ev
	}
	for _, ev := range got {
		if f, ok := byID[ev.ID]; !ok || f.Type != ev.Type || f.Data != ev.Data || !f.OccurredAt.Equal(ev.OccurredAt) || f.Merchant != ev.Merchant {
			t.Errorf("parcel event %+v\nfeed's %+v", ev, f)
		}
	}
	net, err := s.ParcelEvents(ctx, cloud.Network, "TRKC")
	if err != nil || len(net) != 2 || net[1].Data.Instore == nil {
		t.Fatalf("TRKC's events in the network's scope = %+v, %v", net, err)
	}
	if g := net[1].Data.Instore; g.Resolution != grading.Resolution || len(g.Items) != 2 || g.Items[1] != grading.Items[1] {
		t.Errorf("in-store grading = %+v, want %+v", g, grading)
	}
	for _, tt := range []struct {
		scope    cloud.Scope
		tracking string
	}{{cloud.MerchantScope("bolt"), "TRKA"}, {cloud.MerchantScope("acme"), "TRKB"}, {cloud.Network, "NOPE1"}, {cloud.MerchantScope("acme"), "bad tracking"}} {
		if evs, err := s.ParcelEvents(ctx, tt.scope, tt.tracking); edge.ErrorCode(err) != edge.ENOTFOUND {
			t.Errorf("ParcelEvents(%v, %s) = %s, %v; want ENOTFOUND", tt.scope, tt.tracking, summary(evs), err)
		}
	}
}
