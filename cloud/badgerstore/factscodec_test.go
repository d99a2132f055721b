package badgerstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// TestFactsCodec: facts read back as they were written, none and all of
// their fields set, in 4 allocations at most; a truncated, padded or
// unknown value is an error.
func TestFactsCodec(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	full := cloud.ReturnFacts{Merchant: "acme", Created: at, Carrier: "DEMO", Reasons: []string{"DAMAGED", "WRONG_SIZE"},
		SKUs: []string{"S1"}, Relay: "t-1", Dispositions: []string{"RESTOCK"}, Resolution: "REFUND",
		DroppedAt: at.Add(time.Hour), InstoreAt: at.Add(time.Hour), HandedAt: at.Add(3 * time.Hour), WarehouseAt: at.Add(72 * time.Hour),
		ResolvedAt: at.Add(96 * time.Hour), Deposited: true, InStore: true, Cancelled: true, Refunded: true, Exchanged: true}
	old := cloud.ReturnFacts{Merchant: "m", Created: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), Carrier: "UPS", Refunded: true}
	for _, f := range []cloud.ReturnFacts{full, old, {}} {
		b := encodeFacts(&f)
		got := full // decoding overwrites every field
		if err := decodeFacts(b, &got); err != nil || !reflect.DeepEqual(got, f) {
			t.Fatalf("read back %+v, %v; want %+v", got, err, f)
		}
	}
	b := encodeFacts(&full)
	// Its 8 strings and 3 lists: one copy of b and the lists.
	if n := testing.AllocsPerRun(20, func() { _ = decodeFacts(b, &cloud.ReturnFacts{}) }); n > 4 {
		t.Errorf("%v allocations to read facts, want 4 at most", n)
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(b, 0), nil, append([]byte{2}, b[1:]...)} {
		if err := decodeFacts(bad, &cloud.ReturnFacts{}); err == nil {
			t.Errorf("%x read with no error", bad)
		}
	}
}
