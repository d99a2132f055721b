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
