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
	s, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
