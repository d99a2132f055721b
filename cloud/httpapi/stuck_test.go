package httpapi_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/cloud/storetest"
)

// tenDays is ten days after the day of storetest.ReportFixture's returns.
var tenDays = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func TestStuckParcels(t *testing.T) {
	s := MustServer(t)
	storetest.ReportFixture(t, s.Store)
	s.Stuck.Now = func() time.Time { return tenDays }
	type answer struct {
		Parcels []cloud.StuckParcel `json:"parcels"`
	}
	tests := []struct {
		key, query, want string
	}{
		{issuerKey, "stage=awaiting_handover&older_than=1h", "A5:t-1:2026-11-11 A3:t-1:2026-11-21"},
		{operatorKey, "stage=awaiting_handover&older_than=1h", "A5:t-1:2026-11-11 CARRIER1:t-1:2026-11-20 A3:t-1:2026-11-21"},
		{operatorKey, "stage=awaiting_handover&older_than=9d&limit=5", "A5:t-1:2026-11-11 CARRIER1:t-1:2026-11-20"},
		{operatorKey, "stage=awaiting_carrier&older_than=2d", "B1:t-1:2026-11-20"},
		{issuerKey, "stage=awaiting_carrier&older_than=2d", ""}, // B1 is beta's
	}
	for _, tt := range tests {
		r := do(t, s, "GET", "/v1/parcels/stuck?"+tt.query, tt.key, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tt.query, r.status, r.body)
		}
		var a answer
		r.decode(t, &a)
		if a.Parcels == nil {
			t.Fatalf("%s: parcels = null: %s", tt.query, r.body)
		}
		var got []string
		for _, p := range a.Parcels {
			got = append(got, p.Tracking+":"+p.Terminal+":"+p.Since.Format(time.DateOnly))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%s: %s, want %s", tt.query, g, tt.want)
		}
	}
	bad := []struct{ query, key, code string }{
		{"stage=lost&older_than=1h", operatorKey, "INVALID"},
		{"stage=awaiting_handover", operatorKey, "INVALID"},
		{"stage=awaiting_handover&older_than=30s", operatorKey, "INVALID"},
		{"stage=awaiting_handover&older_than=400d", operatorKey, "INVALID"},
		{"stage=awaiting_handover&older_than=-1d", operatorKey, "INVALID"},
		{"stage=awaiting_handover&older_than=1h&limit=0", operatorKey, "INVALID"},
		{"stage=awaiting_handover&older_than=1h&limit=1001", operatorKey, "INVALID"},
		{"stage=awaiting_handover&older_than=1h", partnerKey, "FORBIDDEN"},
	}
	for _, b := range bad {
		if r := do(t, s, "GET", "/v1/parcels/stuck?"+b.query, b.key, ""); r.errCode() != b.code {
			t.Errorf("%s: %d %s, want %s", b.query, r.status, r.body, b.code)
		}
	}
}

// TestStuckCollector: the gauge counts, at scrape time, the network's
// parcels waiting longer than --stuck-after, by stage only.
func TestStuckCollector(t *testing.T) {
	s := MustServer(t)
	storetest.ReportFixture(t, s.Store)
	c := httpapi.NewStuckCollector(s.Store, 9*24*time.Hour, func() time.Time { return tenDays }, slog.New(slog.DiscardHandler))
	want := `
# HELP comptoir_cloud_parcels_stuck Parcels waiting at a stage (awaiting_handover: on a relay point's shelf; awaiting_carrier: handed over, not seen by the carrier) for longer than --stuck-after.
# TYPE comptoir_cloud_parcels_stuck gauge
comptoir_cloud_parcels_stuck{stage="awaiting_carrier"} 1
comptoir_cloud_parcels_stuck{stage="awaiting_handover"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
