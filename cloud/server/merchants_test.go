package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

// createMerchant creates merchant id through the API and returns its
// issuer key.
func createMerchant(tb testing.TB, m *server.Main, id string) string {
	tb.Helper()
	_, op, _ := m.Demo()
	var out struct {
		Merchant  string `json:"merchant"`
		IssuerKey string `json:"issuer_key"`
	}
	if st := call(tb, "POST", m.HTTPURL()+"/v1/merchants", op, map[string]string{"id": id, "name": "Shop " + id}, &out); st != http.StatusCreated || out.IssuerKey == "" {
		tb.Fatalf("create merchant %s: %d %+v", id, st, out)
	}
	return out.IssuerKey
}

type created struct {
	RAID     string `json:"ra_id"`
	Tracking string `json:"tracking"`
	Token    string `json:"token"`
	QRURL    string `json:"qr_png_url"`
}

func createReturn(tb testing.TB, m *server.Main, key string, body map[string]any) (int, created) {
	tb.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["items"] = []map[string]any{{"sku": "A1", "reason": "WRONG_SIZE"}}
	var c created
	st := call(tb, "POST", m.HTTPURL()+"/v1/returns", key, body, &c)
	return st, c
}

// TestTwoMerchants: each merchant sees its own returns, timelines and QR
// codes, and another's answer 404; a tracking number is the network's.
func TestTwoMerchants(t *testing.T) {
	m := MustRun(t, t.TempDir())
	acme, bolt := createMerchant(t, m, "acme"), createMerchant(t, m, "bolt")
	_, a := createReturn(t, m, acme, map[string]any{"tracking": "ACME0000001"})
	_, b := createReturn(t, m, bolt, nil)
	for _, tt := range []struct {
		key, path string
		want      int
	}{
		{acme, "/v1/returns/" + a.RAID, 200},
		{acme, "/v1/returns/" + b.RAID, 404},
		{bolt, "/v1/returns/" + a.RAID, 404},
		{acme, "/v1/parcels/" + a.Tracking + "/timeline", 200},
		{acme, "/v1/parcels/" + b.Tracking + "/timeline", 404},
		{bolt, "/v1/parcels/" + a.Tracking + "/timeline", 404},
		{bolt, "/v1/returns/" + a.RAID + "/qr.png", 404},
		{"", "/v1/returns/" + a.RAID + "/qr.png", 404},
		{acme, "/v1/merchants/bolt/keys", 404},
	} {
		if st := call(t, "GET", m.HTTPURL()+tt.path, tt.key, nil, nil); st != tt.want {
			t.Errorf("GET %s with %s's key: %d, want %d", tt.path, map[string]string{acme: "acme", bolt: "bolt", "": "no"}[tt.key], st, tt.want)
		}
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/returns/"+a.RAID+"/revoke", bolt, nil, nil); st != 404 {
		t.Errorf("bolt revoking acme's return: %d, want 404", st)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/returns", bolt, map[string]any{"tracking": "ACME0000001", "items": []map[string]any{{"sku": "X"}}}, &e); st != 409 || e.Error.Code != cloud.ETrackingTaken {
		t.Errorf("bolt reusing acme's tracking: %d %s, want 409 TRACKING_TAKEN", st, e.Error.Code)
	}
	// The signed link works without a key; the merchants list is scoped.
	if st := call(t, "GET", a.QRURL, "", nil, nil); st != 200 {
		t.Errorf("signed QR link: %d", st)
	}
	var ms struct {
		Merchants []cloud.Merchant `json:"merchants"`
	}
	call(t, "GET", m.HTTPURL()+"/v1/merchants", acme, nil, &ms)
	if len(ms.Merchants) != 1 || ms.Merchants[0].ID != "acme" {
		t.Errorf("merchants seen by acme = %+v", ms.Merchants)
	}
}

// TestConflictsOverMQTT: a second terminal, with its own valid
// credentials, publishes a deposit, a cancel and a handover of the first
// terminal's parcel and an event of an unknown type: the batch is acked,
// none reaches the timeline, all are listed as conflicts and counted.
func TestConflictsOverMQTT(t *testing.T) {
	m := MustRun(t, t.TempDir())
	iss, operator, _ := m.Demo()
	_, ra := createReturn(t, m, iss, nil)
	e1, _ := enrol(t, m, "shop-1")
	e2, _ := enrol(t, m, "shop-2")
	t1, t2 := connectTerminal(t, e1), connectTerminal(t, e2)

	dep := op("shop-1", 1, edge.OpReturnDeposited, ra.Tracking)
	dep.Data, _ = json.Marshal(edge.DepositData{RAID: ra.RAID, Verified: true})
	t1.publish(t, "shop-1", batch("shop-1", dep))
	if got := t1.ack(t); got != "[[1 1]]" {
		t.Fatalf("shop-1's ack = %s", got)
	}
	steal := op("shop-2", 1, edge.OpReturnDeposited, ra.Tracking)
	steal.Data = dep.Data
	t2.publish(t, "shop-2", batch("shop-2", steal,
		op("shop-2", 2, edge.OpReturnCancelled, ra.Tracking),
		op("shop-2", 3, edge.OpParcelHandedOver, ra.Tracking),
		op("shop-2", 4, edge.OpParcelHandedOver, "NEVERISSUED1"),
		op("shop-2", 5, "parcel.teleported", ra.Tracking)))
	if got := t2.ack(t); got != "[[1 5]]" {
		t.Fatalf("shop-2's ack = %s, want every seq acked", got)
	}
	if got := statuses(t, m, ra.Tracking); got != "created,deposited" {
		t.Fatalf("timeline = %s, want created,deposited (shop-1's)", got)
	}
	var cs struct {
		Conflicts []cloud.Conflict `json:"conflicts"`
	}
	if st := call(t, "GET", m.HTTPURL()+"/v1/conflicts", operator, nil, &cs); st != 200 || len(cs.Conflicts) != 5 {
		t.Fatalf("conflicts: %d %+v", st, cs)
	}
	var reasons []string
	for _, c := range cs.Conflicts {
		if c.Terminal != "shop-2" {
			t.Errorf("conflict of %s, want shop-2's", c.Terminal)
		}
		reasons = append(reasons, c.Reason)
	}
	if got := strings.Join(reasons, ","); got != "ALREADY_DEPOSITED,NOT_HOLDER,NOT_HOLDER,NOT_HOLDER,UNKNOWN_TYPE" {
		t.Fatalf("reasons = %s", got)
	}
	if v := metric(t, m, `comptoir_cloud_ingest_conflicts_total{reason="NOT_HOLDER"}`); v != "3" {
		t.Fatalf("NOT_HOLDER conflicts counted = %s, want 3", v)
	}
	if st := call(t, "GET", m.HTTPURL()+"/v1/conflicts", iss, nil, nil); st != http.StatusForbidden {
		t.Fatalf("conflicts with an issuer key: %d, want 403", st)
	}
}

// TestTrackingRaceTwoInstances: two cloud instances on one PostgreSQL
// database receive returns of the same tracking number at the same moment:
// exactly one is created.
func TestTrackingRaceTwoInstances(t *testing.T) {
	dsn, drop, err := pgstore.NewSchema(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop() })
	dir := t.TempDir()
	var ms []*server.Main
	for range 2 {
		m := server.NewMain()
		m.Logger = slog.New(slog.DiscardHandler)
		// One data dir: both read the same demo.json, as instances
		// given the same keys.
		if err := m.ParseFlags([]string{"--data", dir, "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo", "--store", "postgres", "--pg", dsn}); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		ms = append(ms, m)
	}
	iss, _, _ := ms[0].Demo()
	for round := range 5 {
		tracking := "RACE000000" + string(rune('0'+round))
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _ = createReturn(t, ms[i%2], iss, map[string]any{"tracking": tracking})
			}()
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case 201:
				won++
			case 409:
			default:
				t.Fatalf("round %d: status %d", round, c)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of 8 returns of %s created, want 1 (%v)", round, won, tracking, codes)
		}
	}
}
