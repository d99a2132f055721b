package cloud_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func TestS10(t *testing.T) {
	// Expected digits are worked out by hand from the rule (weights
	// 8,6,4,2,3,5,9,7; 11 - sum%11; 10 gives 0, 11 gives 5).
	tests := []struct {
		serial string
		want   int
	}{
		{"47312482", 9}, // 32+42+12+2+6+20+72+14 = 200; 200%11 = 2; 11-2 = 9
		{"12345678", 5}, // 8+12+12+8+15+30+63+56 = 204; 204%11 = 6; 11-6 = 5
		{"00000001", 4}, // 7; 11-7 = 4
		{"00000050", 0}, // 45; 45%11 = 1; 11-1 = 10, written 0
		{"00000000", 5}, // 0; 11-0 = 11, written 5
		{"00100001", 5}, // 4+7 = 11; 11%11 = 0; 11, written 5
	}
	for _, tt := range tests {
		got, err := cloud.S10CheckDigit(tt.serial)
		if err != nil || got != tt.want {
			t.Errorf("S10CheckDigit(%s) = %d, %v; want %d", tt.serial, got, err, tt.want)
		}
	}
	for _, bad := range []string{"1234567", "1234567X", "123456789"} {
		if _, err := cloud.S10CheckDigit(bad); err == nil {
			t.Errorf("S10CheckDigit(%q): no error", bad)
		}
	}

	s, err := cloud.S10("RR", "47312482", "GB")
	if err != nil || s != "RR473124829GB" {
		t.Fatalf("S10 = %q, %v; want RR473124829GB", s, err)
	}
	valid := []string{"RR473124829GB", "CP123456785FR", "AA000000500FR"}
	invalid := []string{"RR473124828GB", "rr473124829GB", "RR47312482GB", "RR4731248X9GB", "", "RR473124829G1"}
	for _, v := range valid {
		if !cloud.ValidS10(v) {
			t.Errorf("ValidS10(%q) = false", v)
		}
	}
	for _, v := range invalid {
		if cloud.ValidS10(v) {
			t.Errorf("ValidS10(%q) = true", v)
		}
	}
	if _, err := cloud.S10("R", "47312482", "GB"); err == nil {
		t.Error("S10 with a 1-letter service: no error")
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		op   edge.OpType
		want cloud.Status
		ok   bool
	}{
		{edge.OpReturnDeposited, cloud.StatusDeposited, true},
		{edge.OpReturnCancelled, cloud.StatusCancelled, true},
		{edge.OpInstoreReceived, cloud.StatusReceivedInStore, true},
		{edge.OpParcelHandedOver, cloud.StatusHandedOver, true},
		{edge.OpReturnRefused, "", false},
		{edge.OpManifestClosed, "", false},
		{edge.OpCommandApplied, "", false},
		{edge.OpDayClosed, "", false},
	}
	for _, tt := range tests {
		got, ok := cloud.StatusOf(tt.op)
		if got != tt.want || ok != tt.ok {
			t.Errorf("StatusOf(%s) = %q, %v; want %q, %v", tt.op, got, ok, tt.want, tt.ok)
		}
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e, ok := cloud.EntryOf(edge.Operation{ID: "e1", Terminal: "t-1", Type: edge.OpReturnDeposited, Tracking: "T", OccurredAt: at}, at.Add(time.Minute))
	if !ok || e.Status != cloud.StatusDeposited || e.Source != "terminal:t-1" || e.Location != "t-1" || e.EventID != "e1" || !e.ReceivedAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("EntryOf = %+v, %v", e, ok)
	}
	if _, ok := cloud.EntryOf(edge.Operation{ID: "e2", Type: edge.OpReturnDeposited}, at); ok {
		t.Fatal("EntryOf without tracking: ok")
	}
}

// TestRAIDOf: the RA id of a deposit, read the way encoding/json reads it
// (keys in any case, escapes), also on the fast path that skips decoding.
func TestRAIDOf(t *testing.T) {
	for _, tt := range []struct{ data, want string }{
		{`{"ra_id":"r1","verified":true}`, "r1"},
		{`{"RA_ID":"r2"}`, "r2"},
		{`{"r\u0061_id":"r3"}`, "r3"},
		{`{"verified":false,"weight_g":1200}`, ""},
		{`{"items":[{"name":"ra-id"}]}`, ""},
		{`not json`, ""},
	} {
		op := edge.Operation{Type: edge.OpReturnDeposited, Data: []byte(tt.data)}
		if got := cloud.RAIDOf(op); got != tt.want {
			t.Errorf("RAIDOf(%s) = %q, want %q", tt.data, got, tt.want)
		}
	}
	if got := cloud.RAIDOf(edge.Operation{Type: edge.OpParcelHandedOver, Data: []byte(`{"ra_id":"x"}`)}); got != "" {
		t.Errorf("RAIDOf(handover) = %q, want none", got)
	}
}
