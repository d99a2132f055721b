package cloud_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

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
