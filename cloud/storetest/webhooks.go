package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// testWebhooks: subscriptions are kept with their secrets, listed and
// changed in their merchant's scope only.
func testWebhooks(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	a := cloud.Webhook{ID: "wh_a", Merchant: "acme", URL: "https://a.example/hook", Events: []string{"*"}, CreatedAt: t0,
		Secrets: []cloud.WebhookSecret{{Secret: "whsec_AAAA"}}}
	b := cloud.Webhook{ID: "wh_b", Merchant: "bolt", URL: "https://b.example/hook", Events: []string{"return.deposited"}, CreatedAt: t0.Add(time.Second),
		Secrets: []cloud.WebhookSecret{{Secret: "whsec_BBBB"}}}
	for _, w := range []cloud.Webhook{a, b} {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateWebhook(ctx, a); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("same id again: %v, want CONFLICT", err)
	}
	ws, err := s.Webhooks(ctx, cloud.MerchantScope("acme"))
	if err != nil || len(ws) != 1 || !reflect.DeepEqual(ws[0], a) {
		t.Fatalf("acme's webhooks = %+v, %v; want %+v", ws, err, a)
	}
	if ws, _ := s.Webhooks(ctx, cloud.Network); len(ws) != 2 || ws[0].ID != "wh_a" || ws[1].ID != "wh_b" {
		t.Fatalf("the network's webhooks = %+v", ws)
	}
	rotate := func(w *cloud.Webhook) error {
		w.Secrets = append([]cloud.WebhookSecret{{Secret: "whsec_NEW"}}, cloud.WebhookSecret{Secret: w.Secrets[0].Secret, Until: t0.Add(24 * time.Hour)})
		w.Merchant = "bolt" // ignored: not the caller's to change
		return nil
	}
	if _, err := s.UpdateWebhook(ctx, cloud.MerchantScope("bolt"), "wh_a", rotate); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("bolt updating acme's: %v, want NOT_FOUND", err)
	}
	refuse := func(*cloud.Webhook) error { return edge.Errorf(edge.ECONFLICT, "no") }
	if _, err := s.UpdateWebhook(ctx, cloud.MerchantScope("acme"), "wh_a", refuse); edge.ErrorCode(err) != edge.ECONFLICT {
		t.Fatalf("refused update: %v, want CONFLICT", err)
	}
	got, err := s.UpdateWebhook(ctx, cloud.MerchantScope("acme"), "wh_a", rotate)
	if err != nil || got.Merchant != "acme" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	ws, _ = s.Webhooks(ctx, cloud.MerchantScope("acme"))
	want := []cloud.WebhookSecret{{Secret: "whsec_NEW"}, {Secret: "whsec_AAAA", Until: t0.Add(24 * time.Hour)}}
	if len(ws) != 1 || !reflect.DeepEqual(ws[0].Secrets, want) {
		t.Fatalf("secrets after rotation = %+v, want %+v", ws, want)
	}
	if err := s.DeleteWebhook(ctx, cloud.MerchantScope("bolt"), "wh_a"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("bolt deleting acme's: %v, want NOT_FOUND", err)
	}
	if err := s.DeleteWebhook(ctx, cloud.MerchantScope("acme"), "wh_a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, cloud.Network, "wh_a"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Fatalf("deleted twice: %v, want NOT_FOUND", err)
	}
	if ws, _ := s.Webhooks(ctx, cloud.Network); len(ws) != 1 || ws[0].ID != "wh_b" {
		t.Fatalf("after the delete: %+v", ws)
	}
}
