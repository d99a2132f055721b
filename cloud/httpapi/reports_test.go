package httpapi_test

import (
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
)

func TestReturnsReport(t *testing.T) {
	s := MustServer(t)
	storetest.ReportFixture(t, s.Store)
	for key, m := range map[string]string{"beta-key": "beta", "zeta-key": "zeta"} {
		if err := s.Store.PutAPIKey(context.Background(), cloud.APIKey{Hash: cloud.HashSecret(key), Role: cloud.RoleIssuer, Merchant: m}); err != nil {
			t.Fatal(err)
		}
	}
	const relay = "/v1/reports/returns?from=2026-11-20&to=2026-11-20&by=relay_point"
	type rows struct {
		Rows []map[string]any `json:"rows"`
	}
	tests := []struct {
		key  string
		want string // key:returns:deposited:handed_over of each row
	}{
		{issuerKey, "t-1:2:1:1 t-2:1:1:0"},
		{operatorKey, "t-1:3:2:2 t-2:1:1:0"},
		{"beta-key", "t-1:1:1:1"},
		{"zeta-key", ""}, // another merchant sees none of it
	}
	for _, tt := range tests {
		r := do(t, s, "GET", relay, tt.key, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tt.key, r.status, r.body)
		}
		var got rows
		r.decode(t, &got)
		if got.Rows == nil {
			t.Fatalf("%s: rows = null, want a list: %s", tt.key, r.body)
		}
		var sum []string
		for _, row := range got.Rows {
			sum = append(sum, strings.Join([]string{row["key"].(string), num(row["returns"]), num(row["deposited"]), num(row["handed_over"])}, ":"))
		}
		if g := strings.Join(sum, " "); g != tt.want {
			t.Errorf("%s: rows %s, want %s", tt.key, g, tt.want)
		}
	}
	// The durations: t-1's first drop-offs came 1h and 1d after the
	// returns were created.
	var got rows
	do(t, s, "GET", relay, issuerKey, "").decode(t, &got)
	if p50, p90 := got.Rows[0]["created_to_dropped_off_p50_s"], got.Rows[0]["created_to_dropped_off_p90_s"]; p50 != 3600.0 || p90 != 86400.0 {
		t.Errorf("t-1's created to dropped off = %v, %v; want 3600, 86400", p50, p90)
	}
	if v, ok := got.Rows[1]["dropped_off_to_handed_over_p50_s"]; !ok || v != nil {
		t.Errorf("t-2's handover duration = %v, want null (none handed over)", v)
	}

	r := do(t, s, "GET", relay+"&format=csv", issuerKey, "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("csv = %q, %v; want a header and 2 rows", r.body, err)
	}
	if h := strings.Join(recs[0], ","); h != strings.Join(cloud.ReportHeader, ",") || !strings.HasPrefix(h, "key,returns,deposited,received_in_store,") {
		t.Errorf("csv header = %s", h)
	}
	if g := strings.Join(recs[2], ","); g != "t-2,1,1,0,1,0,0,0,0,14400,14400,,,,,," {
		t.Errorf("csv row of t-2 = %s", g)
	}

	bad := []struct{ query, key, code string }{
		{"from=2026-11-20&to=2026-11-20&by=store", issuerKey, "INVALID"},
		{"from=20-11-2026&to=2026-11-20&by=sku", issuerKey, "INVALID"},
		{"from=2026-11-20&to=2026-11-19&by=sku", issuerKey, "INVALID"},
		{"from=2020-01-01&to=2026-11-20&by=sku", operatorKey, "INVALID"},
		{"from=2026-11-20&to=2026-11-20&by=sku&format=xml", issuerKey, "INVALID"},
		{"to=2026-11-20&by=sku", issuerKey, "INVALID"},
		{"from=2026-11-20&to=2026-11-20&by=sku", partnerKey, "FORBIDDEN"},
		{"from=2026-11-20&to=2026-11-20&by=sku", "", "UNAUTHORIZED"},
	}
	for _, b := range bad {
		r := do(t, s, "GET", "/v1/reports/returns?"+b.query, b.key, "")
		if r.errCode() != b.code || r.status < 400 || r.status >= 500 {
			t.Errorf("%s: %d %s, want %s", b.query, r.status, r.body, b.code)
		}
	}
}

// num formats a JSON number of a decoded map.
func num(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}
