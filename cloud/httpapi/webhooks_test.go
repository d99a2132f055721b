package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// TestEnableWebhook: a subscription the dispatcher disabled shows why, and
// POST /v1/webhooks/{id}/enable starts it again with its failures
// forgotten; another merchant's key gets 404 and changes nothing.
func TestEnableWebhook(t *testing.T) {
	s := MustServer(t)
	ctx := context.Background()
	if err := s.Merchants.EnsureMerchant(ctx, "bolt", "Bolt"); err != nil {
		t.Fatal(err)
	}
	const boltKey = "bolt-issuer-key"
	if err := s.Store.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret(boltKey), Role: cloud.RoleIssuer, Merchant: "bolt"}); err != nil {
		t.Fatal(err)
	}
	w, _, err := s.Webhooks.Create(ctx, testMerchant, cloud.WebhookRequest{URL: "https://93.184.216.34/hook", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	failing := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Store.UpdateWebhook(ctx, cloud.Network, w.ID, func(w *cloud.Webhook) error {
		w.Disabled, w.DisabledAt = "Deliveries failed for 72h0m0s; the last: HTTP 500.", failing.Add(72*time.Hour)
		w.Attempts, w.FailingSince, w.NextAttempt = 40, failing, failing.Add(73*time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var list struct{ Webhooks []cloud.Webhook }
	do(t, s, "GET", "/v1/webhooks", issuerKey, "").decode(t, &list)
	if len(list.Webhooks) != 1 || !strings.Contains(list.Webhooks[0].Disabled, "HTTP 500") {
		t.Fatalf("the merchant sees %+v, want why it was disabled", list.Webhooks)
	}
	if r := do(t, s, "POST", "/v1/webhooks/"+w.ID+"/enable", boltKey, ""); r.status != 404 {
		t.Fatalf("another merchant enabling: %d %s, want 404", r.status, r.body)
	}
	if ws, _ := s.Store.Webhooks(ctx, cloud.Network); ws[0].Disabled == "" {
		t.Fatal("another merchant's key enabled it")
	}
	for range 2 { // enabling an active subscription changes nothing
		r := do(t, s, "POST", "/v1/webhooks/"+w.ID+"/enable", issuerKey, "")
		var got cloud.Webhook
		r.decode(t, &got)
		if r.status != 200 || got.Disabled != "" || !got.DisabledAt.IsZero() || got.Attempts != 0 || !got.FailingSince.IsZero() || !got.NextAttempt.IsZero() {
			t.Fatalf("enable: %d %s", r.status, r.body)
		}
	}
	if r := do(t, s, "POST", "/v1/webhooks/wh_nope/enable", issuerKey, ""); r.status != 404 || r.errCode() != "NOT_FOUND" {
		t.Fatalf("enable an unknown one: %d %s", r.status, r.body)
	}
}

// TestReplayWebhookRange: POST /v1/webhooks/{id}/replay takes a time
// range, refuses a range that ends before it starts or one named both by
// a cursor and a time, and moves the subscription's cursor back to the
// range's start.
func TestReplayWebhookRange(t *testing.T) {
	s := MustServer(t)
	ctx := context.Background()
	w, _, err := s.Webhooks.Create(ctx, testMerchant, cloud.WebhookRequest{URL: "https://93.184.216.34/hook", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().UTC()
	mustCreate(t, s, `{"items":[{"sku":"A1"}]}`)
	if _, err := s.Store.UpdateWebhook(ctx, cloud.Network, w.ID, func(w *cloud.Webhook) error { w.Cursor = 1 << 16; return nil }); err != nil {
		t.Fatal(err)
	}
	to := time.Now().UTC().Add(time.Second)
	path := "/v1/webhooks/" + w.ID + "/replay"
	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"from":"` + to.Format(time.RFC3339Nano) + `","to":"` + from.Format(time.RFC3339Nano) + `"}`, 400},
		{`{"after":"0","from":"` + from.Format(time.RFC3339Nano) + `"}`, 400},
		{`{"from":"yesterday"}`, 400},
	} {
		if r := do(t, s, "POST", path, issuerKey, tt.body); r.status != tt.want || r.errCode() != "INVALID" {
			t.Fatalf("%s: %d %s, want %d", tt.body, r.status, r.body, tt.want)
		}
	}
	r := do(t, s, "POST", path, issuerKey, `{"from":"`+from.Format(time.RFC3339Nano)+`","to":"`+to.Format(time.RFC3339Nano)+`"}`)
	var got cloud.Webhook
	r.decode(t, &got)
	if r.status != 200 || got.Cursor >= 1<<16 {
		t.Fatalf("replay: %d %s; want the cursor before the return's event", r.status, r.body)
	}
}
