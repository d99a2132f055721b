package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
)

func TestRelayStatement(t *testing.T) {
	s := MustServer(t)
	storetest.ReportFixture(t, s.Store)
	for _, tid := range []string{"t-1", "t-2"} {
		if err := s.Store.CreateTerminal(context.Background(), cloud.Terminal{ID: tid, Name: tid}); err != nil {
			t.Fatal(err)
		}
	}
	s.Statements.RateCents = 45
	r := do(t, s, "GET", "/v1/relay-points/t-1/statement?month=2026-11", operatorKey, "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var st map[string]any
	r.decode(t, &st)
	// 4 deposits and 1 in-store receipt, none cancelled: 5 parcels at 45.
	want := map[string]any{"terminal": "t-1", "month": "2026-11", "deposits": 4.0, "cancelled": 0.0, "handovers": 2.0,
		"instore": 1.0, "refusals": 1.0, "rate_cents": 45.0, "amount_cents": 225.0}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, st[k], v, r.body)
		}
	}
	r = do(t, s, "GET", "/v1/relay-points/t-2/statement?month=2026-11&format=csv", operatorKey, "")
	if got := string(r.body); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		got != "terminal,month,deposits,cancelled,handovers,instore,refusals,rate_cents,amount_cents\nt-2,2026-11,1,1,0,0,0,45,0\n" {
		t.Errorf("csv: %d %q", r.status, got)
	}
	bad := []struct{ path, key, code string }{
		{"/v1/relay-points/t-1/statement?month=2026-13", operatorKey, "INVALID"},
		{"/v1/relay-points/t-1/statement?month=2026-1", operatorKey, "INVALID"},
		{"/v1/relay-points/t-1/statement", operatorKey, "INVALID"},
		{"/v1/relay-points/t-1/statement?month=2026-11&format=pdf", operatorKey, "INVALID"},
		{"/v1/relay-points/t-9/statement?month=2026-11", operatorKey, "NOT_FOUND"},
		{"/v1/relay-points/t-1/statement?month=2026-11", issuerKey, "FORBIDDEN"},
	}
	for _, b := range bad {
		if r := do(t, s, "GET", b.path, b.key, ""); r.errCode() != b.code {
			t.Errorf("%s: %d %s, want %s", b.path, r.status, r.body, b.code)
		}
	}
}

func TestRefusalsReport(t *testing.T) {
	s := MustServer(t)
	storetest.ReportFixture(t, s.Store)
	r := do(t, s, "GET", "/v1/reports/refusals?from=2026-11-20&to=2026-11-21", operatorKey, "")
	if r.status != 200 || string(r.body) != `{"rows":[{"relay_point":"t-1","reason":"EXPIRED","refusals":1}]}` {
		t.Errorf("json: %d %s", r.status, r.body)
	}
	r = do(t, s, "GET", "/v1/reports/refusals?from=2026-11-21&to=2026-11-30", operatorKey, "")
	if r.status != 200 || string(r.body) != `{"rows":[]}` {
		t.Errorf("json of days without refusals: %d %s", r.status, r.body)
	}
	r = do(t, s, "GET", "/v1/reports/refusals?from=2026-11-01&to=2026-11-30&format=csv", operatorKey, "")
	if got := string(r.body); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		got != "relay_point,reason,refusals\nt-1,EXPIRED,1\n" {
		t.Errorf("csv: %d %q", r.status, got)
	}
	bad := []struct{ path, key, code string }{
		{"/v1/reports/refusals?from=2026-11-21&to=2026-11-20", operatorKey, "INVALID"},
		{"/v1/reports/refusals?from=2026-11-20", operatorKey, "INVALID"},
		{"/v1/reports/refusals?from=2025-01-01&to=2026-11-20", operatorKey, "INVALID"},
		{"/v1/reports/refusals?from=2026-11-20&to=2026-11-20&format=xml", operatorKey, "INVALID"},
		{"/v1/reports/refusals?from=2026-11-20&to=2026-11-20", issuerKey, "FORBIDDEN"},
		{"/v1/reports/refusals?from=2026-11-20&to=2026-11-20", "", "UNAUTHORIZED"},
	}
	for _, b := range bad {
		if r := do(t, s, "GET", b.path, b.key, ""); r.errCode() != b.code {
			t.Errorf("%s: %d %s, want %s", b.path, r.status, r.body, b.code)
		}
	}
}
