package server_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// receiptAnswer is the answer of POST /v1/receipts/verify.
type receiptAnswer struct {
	Valid    bool   `json:"valid"`
	Reason   string `json:"reason"`
	Status   string `json:"status"`
	Terminal string `json:"terminal"`
	Receipt  *struct {
		ID       string    `json:"id"`
		Tracking string    `json:"tracking"`
		At       time.Time `json:"at"`
	} `json:"receipt"`
}

// receipt signs a receipt of tracking with k, dated at.
func receipt(t *testing.T, k token.Key, tracking string, at time.Time) string {
	t.Helper()
	tok, err := token.SignReceipt(k, edge.Receipt{ID: "r-" + tracking, Tracking: tracking, RelayPoint: k.ID, At: at, WeightG: 500, Parcels: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// checkReceipt verifies tok at the cloud and checks the answer.
func checkReceipt(t *testing.T, m *server.Main, tok string, valid bool, reason string) receiptAnswer {
	t.Helper()
	var a receiptAnswer
	if st := call(t, "POST", m.HTTPURL()+"/v1/receipts/verify", "", map[string]string{"token": tok}, &a); st != 200 || a.Valid != valid || a.Reason != reason {
		t.Fatalf("verify: %d %+v; want valid %v, reason %q", st, a, valid, reason)
	}
	return a
}

// TestReceiptCancelled: a terminal deposits two parcels over MQTT and
// cancels one: that receipt answers CANCELLED with the parcel's status,
// the other stays valid.
func TestReceiptCancelled(t *testing.T) {
	m := MustRun(t, t.TempDir())
	e, k := enrol(t, m, "shop-rc")
	term := connectTerminal(t, e)
	kept, dropped := op("shop-rc", 1, edge.OpReturnDeposited, "CP000000011FR"), op("shop-rc", 2, edge.OpReturnDeposited, "CP000000012FR")
	term.publish(t, "shop-rc", batch("shop-rc", kept, dropped, op("shop-rc", 3, edge.OpReturnCancelled, "CP000000012FR")))
	if got := term.ack(t); got != "[[1 3]]" {
		t.Fatalf("ack = %s, want [[1 3]]", got)
	}
	a := checkReceipt(t, m, receipt(t, k, kept.Tracking, kept.OccurredAt), true, "")
	if a.Status != string(cloud.StatusDeposited) || a.Terminal != "shop-rc" || a.Receipt == nil || a.Receipt.Tracking != kept.Tracking {
		t.Fatalf("valid receipt answer = %+v", a)
	}
	a = checkReceipt(t, m, receipt(t, k, dropped.Tracking, dropped.OccurredAt), false, cloud.ReceiptCancelled)
	if a.Status != string(cloud.StatusCancelled) || a.Receipt == nil {
		t.Fatalf("cancelled receipt answer = %+v", a)
	}
	a = checkReceipt(t, m, "not-a-receipt", false, cloud.ReceiptMalformed)
	if a.Receipt != nil || a.Status != "" {
		t.Fatalf("malformed answer = %+v", a)
	}
}
