package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/webhookhttp"
)

// openStores opens an empty store of each kind, PostgreSQL in a schema of
// its own.
func openStores(t *testing.T) map[string]cloud.Store {
	t.Helper()
	b, err := badgerstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	dsn, drop, err := pgstore.NewSchema(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop() })
	p, err := pgstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return map[string]cloud.Store{"badger": b, "postgres": p}
}

// TestWebhookReplayRange: a replay of a time range delivers again the
// events recorded in it, in order, then goes on where the subscription
// was (nothing after the range twice); a replay asked while a delivery is
// in flight is not undone when that delivery is recorded.
func TestWebhookReplayRange(t *testing.T) {
	for name, store := range openStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r := newReceiver(t)
			ws := &cloud.Webhooks{Store: store, AllowPrivate: true}
			w := r.subscribe(t, ws, "acme")
			d := &cloud.Dispatcher{Store: store, Sender: webhookhttp.New(webhookhttp.Config{AllowPrivate: true}), Instance: "a"}
			ids := map[string]string{} // webhook-id -> tracking
			create := func(trackings ...string) {
				for _, tr := range trackings {
					if err := store.CreateReturn(ctx, cloud.Return{ID: "ra-" + tr, Merchant: "acme", Tracking: tr, CreatedAt: time.Now()}); err != nil {
						t.Fatal(err)
					}
				}
				evs, _, err := store.Events(ctx, cloud.MerchantScope("acme"), 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					ids[e.ID] = e.Tracking
				}
			}
			steps := func(n int) {
				for range n {
					if _, err := d.Step(ctx, w.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := func() string {
				var out []string
				for _, id := range r.received() {
					out = append(out, ids[id])
				}
				return strings.Join(out, " ")
			}
			instant := func() time.Time {
				time.Sleep(2 * time.Millisecond)
				defer time.Sleep(2 * time.Millisecond)
				return time.Now()
			}

			create("A1", "A2")
			from := instant()
			create("A3", "A4")
			to := instant()
			create("A5")
			steps(2)
			if _, err := ws.Replay(ctx, cloud.MerchantScope("bolt"), w.ID, cloud.ReplayRequest{From: from, To: to}); err == nil {
				t.Fatal("another merchant replayed acme's webhook")
			}
			if _, err := ws.Replay(ctx, cloud.MerchantScope("acme"), w.ID, cloud.ReplayRequest{From: to, To: from}); err == nil {
				t.Fatal("a range that ends before it starts was taken")
			}
			if _, err := ws.Replay(ctx, cloud.MerchantScope("acme"), w.ID, cloud.ReplayRequest{From: from, To: to}); err != nil {
				t.Fatal(err)
			}
			steps(3)
			create("A6")
			steps(2)
			if want := "A1 A2 A3 A4 A5 A3 A4 A6"; got() != want {
				t.Fatalf("received %q, want %q", got(), want)
			}

			// A replay asked while A7's delivery is in flight.
			r.mu.Lock()
			r.answer = func(id string, n int) int {
				if n == 1 && ids[id] == "" { // A7, not yet in ids
					if _, err := ws.Replay(ctx, cloud.Network, w.ID, cloud.ReplayRequest{From: from, To: to}); err != nil {
						t.Error(err)
					}
				}
				return 200
			}
			r.mu.Unlock()
			if err := store.CreateReturn(ctx, cloud.Return{ID: "ra-A7", Merchant: "acme", Tracking: "A7", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			steps(1)
			create()
			steps(4)
			// A7 again: its first delivery was not recorded (at least once).
			if want := "A1 A2 A3 A4 A5 A3 A4 A6 A7 A3 A4 A7"; got() != want {
				t.Fatalf("received %q, want %q", got(), want)
			}

			// Everything delivered, a retention of a nanosecond prunes all
			// but the last event.
			d.Retention = time.Nanosecond
			if n, err := d.Prune(ctx); err != nil || n < 6 {
				t.Fatalf("prune = %d, %v; want all but the last", n, err)
			}
			if evs, _, err := store.Events(ctx, cloud.MerchantScope("acme"), 0, 100); err != nil || len(evs) != 1 || evs[0].Tracking != "A7" {
				t.Fatalf("the feed after pruning: %+v, %v", evs, err)
			}
		})
	}
}
