package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// createReturns creates a return of merchant for each tracking, one
// transaction each.
func createReturns(t *testing.T, s cloud.Store, merchant string, trackings ...string) {
	t.Helper()
	for _, tr := range trackings {
		if err := s.CreateReturn(context.Background(), cloud.Return{ID: "ra-" + tr, Merchant: merchant, Tracking: tr, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
}

// instant returns the time now, a little apart from the events recorded
// before and after it (stores' clocks count microseconds).
func instant() time.Time {
	time.Sleep(2 * time.Millisecond)
	defer time.Sleep(2 * time.Millisecond)
	return time.Now()
}

// testOutboxTimes: EventsAt finds the events recorded in a time range.
func testOutboxTimes(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	if pos, err := s.EventsAt(ctx, time.Now()); err != nil || pos != 0 {
		t.Fatalf("EventsAt of an empty outbox = %d, %v", pos, err)
	}
	before := instant()
	createReturns(t, s, "acme", "TRK1")
	createReturns(t, s, "bolt", "TRK2")
	from := instant()
	createReturns(t, s, "acme", "TRK3")
	createReturns(t, s, "bolt", "TRK4")
	to := instant()
	createReturns(t, s, "acme", "TRK5")
	after := instant()
	head, err := s.EventsHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := func(when time.Time) uint64 {
		t.Helper()
		pos, err := s.EventsAt(ctx, when)
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	if evs, _ := feed(t, s, cloud.Network, at(before), 100); len(evs) != 5 {
		t.Errorf("after EventsAt(before them all): %q, want all 5", summary(evs))
	}
	if got := at(after); got != head {
		t.Errorf("EventsAt(after them all) = %d, want the head %d", got, head)
	}
	start, end := at(from), at(to)
	all, _ := feed(t, s, cloud.Network, start, 100)
	var in []cloud.Event
	for _, e := range all {
		if e.Seq <= end {
			in = append(in, e)
		}
	}
	if got, want := summary(in), "return.created:TRK3 return.created:TRK4"; got != want {
		t.Fatalf("events in [from, to) = %q, want %q", got, want)
	}
	if acme, _ := feed(t, s, cloud.MerchantScope("acme"), start, 100); summary(acme) != "return.created:TRK3 return.created:TRK5" {
		t.Fatalf("acme's events from `from` = %q", summary(acme))
	}
}

// testOutboxPrune: PruneEvents removes the events recorded before a time
// that every active subscription of their merchant has passed (a
// disabled one holds nothing), the oldest first, never the last one: the
// positions of new events go on after it.
func testOutboxPrune(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for _, w := range []cloud.Webhook{
		{ID: "wh_a", Merchant: "acme", URL: "https://a.example/hook", Events: []string{"*"}, CreatedAt: t0},
		{ID: "wh_b", Merchant: "bolt", URL: "https://b.example/hook", Events: []string{"*"}, CreatedAt: t0, Disabled: "failing"},
	} {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	createReturns(t, s, "bolt", "TRK1")
	mustStore(t, s, "t-1", deposit("t-1", 1, "CARRIER1", ""))
	createReturns(t, s, "acme", "TRK2")
	createReturns(t, s, "bolt", "TRK3")
	cut := instant()
	createReturns(t, s, "acme", "TRK4")
	network := func() string { all, _ := feed(t, s, cloud.Network, 0, 100); return summary(all) }

	// acme's subscription has delivered nothing: TRK2 stays, and what is
	// after it may.
	n, err := s.PruneEvents(ctx, cut)
	if err != nil || n < 2 {
		t.Fatalf("prune = %d, %v; want bolt's first and the carrier's removed", n, err)
	}
	if got := network(); got != "return.created:TRK2 return.created:TRK3 return.created:TRK4" && got != "return.created:TRK2 return.created:TRK4" {
		t.Fatalf("after the first prune: %q", got)
	}
	acme, _ := feed(t, s, cloud.MerchantScope("acme"), 0, 100)
	if summary(acme) != "return.created:TRK2 return.created:TRK4" {
		t.Fatalf("acme's feed after the first prune: %q", summary(acme))
	}

	// Once it has passed TRK2, all before the cut goes.
	if _, err := s.UpdateWebhook(ctx, cloud.Network, "wh_a", func(w *cloud.Webhook) error { w.Cursor = acme[0].Seq; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneEvents(ctx, cut); err != nil {
		t.Fatal(err)
	}
	if got := network(); got != "return.created:TRK4" {
		t.Fatalf("after the second prune: %q", got)
	}
	if bolt, _ := feed(t, s, cloud.MerchantScope("bolt"), 0, 100); len(bolt) != 0 {
		t.Fatalf("bolt's feed: %q", summary(bolt))
	}

	// Pruning everything keeps the last event: the head stays and a new
	// event comes after it.
	head, _ := s.EventsHead(ctx)
	if _, err := s.UpdateWebhook(ctx, cloud.Network, "wh_a", func(w *cloud.Webhook) error { w.Cursor = head; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneEvents(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.EventsHead(ctx); h != head {
		t.Fatalf("head after pruning all = %d, want %d", h, head)
	}
	createReturns(t, s, "acme", "TRK5")
	if evs, _ := feed(t, s, cloud.MerchantScope("acme"), head, 100); summary(evs) != "return.created:TRK5" {
		t.Fatalf("after the head: %q", summary(evs))
	}
}
