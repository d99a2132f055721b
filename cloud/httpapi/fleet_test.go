package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// TestFleetFilters lists terminals by online, backlog and printer state.
func TestFleetFilters(t *testing.T) {
	s := MustServer(t)
	statuses := map[string]string{
		"shop-a": `{"v":1,"online":true,"outbox_pending":0,"printers":{"label":{"up":true,"state":"ready"}}}`,
		"shop-b": `{"v":1,"online":true,"outbox_pending":500,"printers":{"label":{"up":false,"state":"paper_out"}}}`,
		"shop-c": `{"v":1,"online":true,"outbox_pending":20}`,
	}
	for _, id := range []string{"shop-a", "shop-b", "shop-c"} {
		enrol(t, s, id)
		if err := s.Store.UpdateTerminalStatus(context.Background(), id, cloud.StatusUpdate{Online: true, Status: json.RawMessage(statuses[id]), SeenAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// shop-c then leaves: its last will.
	if err := s.Store.UpdateTerminalStatus(context.Background(), "shop-c", cloud.StatusUpdate{Online: false}); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{
		"":                              "shop-a,shop-b,shop-c",
		"?online=true":                  "shop-a,shop-b",
		"?online=false":                 "shop-c",
		"?backlog_over=10":              "shop-b,shop-c",
		"?backlog_over=100&online=true": "shop-b",
		"?printer=down":                 "shop-b",
		"?printer=paper_out":            "shop-b",
		"?printer=up":                   "shop-a",
		"?printer=head_open":            "",
	} {
		r := do(t, s, "GET", "/v1/terminals"+query, operatorKey, "")
		var got struct {
			Terminals []struct{ ID string } `json:"terminals"`
		}
		r.decode(t, &got)
		var ids []string
		for _, tv := range got.Terminals {
			ids = append(ids, tv.ID)
		}
		if r.status != 200 || strings.Join(ids, ",") != want {
			t.Errorf("GET /v1/terminals%s = %d %v, want %s", query, r.status, ids, want)
		}
	}
	for _, bad := range []string{"?online=maybe", "?backlog_over=-1", "?backlog_over=x"} {
		if r := do(t, s, "GET", "/v1/terminals"+bad, operatorKey, ""); r.status != 400 || r.errCode() != "INVALID" {
			t.Errorf("GET /v1/terminals%s = %d %s, want 400 INVALID", bad, r.status, r.body)
		}
	}
}

// TestRevokeCarriesOtherInstances: a revocation stored by another instance
// (straight into the shared store here) is in the trust list this one
// publishes at its next revocation.
func TestRevokeCarriesOtherInstances(t *testing.T) {
	s := MustServer(t)
	ctx := context.Background()
	if err := s.Store.CreateReturn(ctx, cloud.Return{ID: "ra-from-elsewhere", Merchant: testMerchant, Tracking: "ELSEWHERE1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.Revoke(ctx, cloud.Network, "ra-from-elsewhere"); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, s, `{"items":[{"sku":"A1"}]}`)
	if r := do(t, s, "POST", "/v1/returns/"+c.RAID+"/revoke", issuerKey, ""); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	r := do(t, s, "GET", "/v1/trust", "", "")
	if !strings.Contains(string(r.body), "ra-from-elsewhere") || !strings.Contains(string(r.body), c.RAID) {
		t.Fatalf("trust list = %s, want both revocations", r.body)
	}
}
