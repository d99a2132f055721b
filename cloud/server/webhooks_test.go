package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud"
)

type webhookAnswer struct {
	cloud.Webhook
	Secret string `json:"secret"`
	Error  struct {
		Code string `json:"code"`
	} `json:"error"`
}

// TestWebhookSubscriptions: a merchant subscribes, lists, rotates the
// secret and deletes; another merchant sees and changes none of it;
// loopback targets are refused unless --webhook-allow-private; secrets are
// shown only at creation and rotation.
func TestWebhookSubscriptions(t *testing.T) {
	strict := MustRun(t, t.TempDir())
	acme := createMerchant(t, strict, "acme")
	var refused webhookAnswer
	for _, url := range []string{"http://127.0.0.1:9/hook", "https://[::1]/hook", "https://169.254.169.254/x", "https://10.0.0.1/x"} {
		if st := call(t, "POST", strict.HTTPURL()+"/v1/webhooks", acme, map[string]any{"url": url, "events": []string{"*"}}, &refused); st != 422 || refused.Error.Code != cloud.EPrivateTarget {
			t.Errorf("%s: %d %s, want 422 PRIVATE_TARGET", url, st, refused.Error.Code)
		}
	}

	m := MustRun(t, t.TempDir(), "--webhook-allow-private")
	acme, bolt := createMerchant(t, m, "acme"), createMerchant(t, m, "bolt")
	_, operator, partner := m.Demo()
	var w webhookAnswer
	if st := call(t, "POST", m.HTTPURL()+"/v1/webhooks", acme, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"return.deposited", "return.deposited"}}, &w); st != http.StatusCreated {
		t.Fatalf("create: %d %+v", st, w)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") || len(w.Secret) < 30 || w.ID == "" || len(w.Events) != 1 || w.Merchant != "acme" {
		t.Fatalf("created = %+v", w)
	}
	for _, tt := range []struct {
		key  string
		body map[string]any
		want int
	}{
		{acme, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"parcel.teleported"}}, 400},
		{acme, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{}}, 400},
		{acme, map[string]any{"url": "gopher://127.0.0.1/", "events": []string{"*"}}, 400},
		{operator, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}}, 403},
		{partner, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}}, 403},
	} {
		if st := call(t, "POST", m.HTTPURL()+"/v1/webhooks", tt.key, tt.body, nil); st != tt.want {
			t.Errorf("create %v: %d, want %d", tt.body, st, tt.want)
		}
	}
	list := func(key string) string {
		var out struct {
			Webhooks []map[string]any `json:"webhooks"`
		}
		if st := call(t, "GET", m.HTTPURL()+"/v1/webhooks", key, nil, &out); st != 200 {
			t.Fatalf("list: %d", st)
		}
		var ids []string
		for _, h := range out.Webhooks {
			if _, shown := h["secret"]; shown {
				t.Errorf("a listed webhook shows a secret: %v", h)
			}
			if _, shown := h["secrets"]; shown {
				t.Errorf("a listed webhook shows its secrets: %v", h)
			}
			ids = append(ids, h["id"].(string))
		}
		return strings.Join(ids, ",")
	}
	if got := list(acme); got != w.ID {
		t.Fatalf("acme's list = %s, want %s", got, w.ID)
	}
	if got := list(bolt); got != "" {
		t.Fatalf("bolt's list = %s, want none", got)
	}
	if got := list(operator); got != w.ID {
		t.Fatalf("operator's list = %s", got)
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/webhooks/"+w.ID+"/rotate-secret", bolt, nil, nil); st != 404 {
		t.Fatalf("bolt rotating acme's secret: %d, want 404", st)
	}
	var r webhookAnswer
	if st := call(t, "POST", m.HTTPURL()+"/v1/webhooks/"+w.ID+"/rotate-secret", acme, nil, &r); st != 200 || !strings.HasPrefix(r.Secret, "whsec_") || r.Secret == w.Secret {
		t.Fatalf("rotate: %d %+v", st, r)
	}
	if st := call(t, "DELETE", m.HTTPURL()+"/v1/webhooks/"+w.ID, bolt, nil, nil); st != 404 {
		t.Fatalf("bolt deleting acme's webhook: %d, want 404", st)
	}
	if st := call(t, "DELETE", m.HTTPURL()+"/v1/webhooks/"+w.ID, acme, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if got := list(acme); got != "" {
		t.Fatalf("after the delete: %s", got)
	}
}
