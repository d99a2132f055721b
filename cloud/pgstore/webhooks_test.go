package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/pgstore"
)

// TestUpdateWebhookUnchanged: an update that changes nothing (a webhook
// dispatcher's idle step) writes no new row version; one that changes
// something does.
func TestUpdateWebhookUnchanged(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s := openDSN(t, dsn)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	w := cloud.Webhook{ID: "wh_1", Merchant: "acme", URL: "https://a.example/hook", Events: []string{"*"},
		CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Secrets: []cloud.WebhookSecret{{Secret: "whsec_AAAA"}}}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	version := func() string {
		var v string
		if err := conn.QueryRow(ctx, `SELECT xmin::text FROM webhooks WHERE id = 'wh_1'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	if _, err := s.UpdateWebhook(ctx, cloud.Network, "wh_1", func(*cloud.Webhook) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0 {
		t.Fatalf("an update that changed nothing wrote the row (xmin %s -> %s)", v0, v)
	}
	if _, err := s.UpdateWebhook(ctx, cloud.Network, "wh_1", func(w *cloud.Webhook) error { w.Cursor = 7; return nil }); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v0 {
		t.Fatal("a change was not written")
	}
}

// TestFeedHeads: the heads are each merchant's last seq, in its own
// scope (0 for a merchant with no event), and count the events committed
// before the read.
func TestFeedHeads(t *testing.T) {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, m := range []string{"acme", "bolt", "acme"} {
		id := []string{"ra-1", "ra-2", "ra-3"}[i]
		if err := s.CreateReturn(ctx, cloud.Return{ID: id, Merchant: m, Tracking: "HEAD-" + id, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	heads, err := s.FeedHeads(ctx, []string{"acme", "bolt", "cato"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"acme", "bolt"} {
		evs, _, err := s.Events(ctx, cloud.MerchantScope(m), 0, 100)
		if err != nil || len(evs) == 0 {
			t.Fatalf("events of %s: %v, %v", m, evs, err)
		}
		if want := evs[len(evs)-1].Seq; heads[m] != want {
			t.Errorf("head of %s = %d, want %d (heads %v)", m, heads[m], want, heads)
		}
	}
	if h, ok := heads["cato"]; !ok || h != 0 || len(heads) != 3 {
		t.Errorf("heads = %v, want cato's 0 among 3", heads)
	}
	if heads["acme"] <= heads["bolt"] {
		t.Errorf("heads = %v: acme's last return came after bolt's", heads)
	}
}
