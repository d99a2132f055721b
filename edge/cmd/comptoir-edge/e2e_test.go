package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud/server"
)

// startCloud runs a whole cloud in-process on the given addresses (port 0
// for fresh ones) with --demo, and returns it with clients holding its keys.
func startCloud(t *testing.T, dir, httpAddr, mqttAddr string) (*server.Main, *client, *client) {
	t.Helper()
	m := server.NewMain()
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.ParseFlags([]string{"--data", dir, "--http", httpAddr, "--mqtt-listen", mqttAddr, "--demo"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("cloud run: %v", err)
	}
	issuerKey, operatorKey, _ := m.Demo()
	issuer, operator := newClient(t, m.HTTPURL()), newClient(t, m.HTTPURL())
	issuer.key, operator.key = issuerKey, operatorKey
	return m, issuer, operator
}

// enrolledTerminal enrols terminal tid with cloud and starts it in a temp
// dir, signed in as the demo clerk.
func enrolledTerminal(t *testing.T, cloud *server.Main, operator *client, tid, name string) (*Main, *client) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Enroll(context.Background(), cloud.HTTPURL(), operator.key, tid, name, dir); err != nil {
		t.Fatal(err)
	}
	return startTerminal(t, dir)
}

// partnerClient returns a client holding the cloud's demo partner key.
func partnerClient(t *testing.T, cloud *server.Main) *client {
	_, _, key := cloud.Demo()
	c := newClient(t, cloud.HTTPURL())
	c.key = key
	return c
}

type createdReturn struct {
	RAID     string `json:"ra_id"`
	Tracking string `json:"tracking"`
	Token    string `json:"token"`
	QRURL    string `json:"qr_png_url"`
}

func createReturn(t *testing.T, issuer *client) createdReturn {
	t.Helper()
	var ra createdReturn
	body := map[string]any{"items": []map[string]any{{"sku": "SKU-42", "name": "Robe", "qty": 1, "reason": "WRONG_SIZE"}}}
	if code := issuer.do("POST", "/v1/returns", body, &ra); code != http.StatusCreated {
		t.Fatalf("create return: status %d", code)
	}
	if ra.Token == "" || ra.Tracking == "" || ra.QRURL == "" {
		t.Fatalf("create return: incomplete answer %+v", ra)
	}
	return ra
}

type timelineEntry struct {
	Status     string    `json:"status"`
	OccurredAt time.Time `json:"occurred_at"`
	EventID    string    `json:"event_id"`
}

// waitForStatus polls the parcel's timeline until status shows, and returns
// the timeline.
func waitForStatus(t *testing.T, cl *client, tracking, status string) []timelineEntry {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var tl struct {
			Timeline []timelineEntry `json:"timeline"`
		}
		cl.do("GET", "/v1/parcels/"+url.PathEscape(tracking)+"/timeline", nil, &tl)
		for _, e := range tl.Timeline {
			if e.Status == status {
				return tl.Timeline
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timeline of %s never showed %q: %+v", tracking, status, tl.Timeline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(tl []timelineEntry, status string) int {
	n := 0
	for _, e := range tl {
		if e.Status == status {
			n++
		}
	}
	return n
}

// TestEndToEnd: a return created in the cloud is scanned from its QR image
// at a terminal, deposited, and shows on the parcel's timeline.
func TestEndToEnd(t *testing.T) {
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()

	ra := createReturn(t, issuer)
	var png []byte
	if code := issuer.do("GET", ra.QRURL, nil, &png); code != http.StatusOK || len(png) < 100 {
		t.Fatalf("QR PNG: status %d, %d bytes", code, len(png))
	}

	_, kiosk := enrolledTerminal(t, cloud, operator, "term-e2e-1", "Relais E2E")

	var scan scanResult
	if code := kiosk.do("POST", "/api/scan/image", png, &scan); code != http.StatusOK {
		t.Fatalf("scan image: status %d", code)
	}
	if !scan.Eligible || scan.Kind != "return" || scan.Text != ra.Token || scan.Code.Tracking != ra.Tracking {
		t.Fatalf("scan image: %+v, want an eligible return for %s", scan, ra.Tracking)
	}
	var dep depositResult
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": scan.Text, "weight_g": 1200, "dims_mm": []int{300, 200, 100}}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit: status %d", code)
	}
	if dep.Deposit.Tracking != ra.Tracking || dep.Receipt.Token == "" || dep.Label == nil {
		t.Fatalf("deposit answer: %+v", dep)
	}

	tl := waitForStatus(t, issuer, ra.Tracking, "deposited")
	if count(tl, "created") != 1 || count(tl, "deposited") != 1 || tl[0].Status != "created" {
		t.Errorf("timeline: %+v, want created then deposited once", tl)
	}

	// The cloud verifies the receipt the terminal signed.
	var v struct {
		Valid bool `json:"valid"`
	}
	issuer.do("POST", "/v1/receipts/verify", map[string]string{"token": dep.Receipt.Token}, &v)
	if !v.Valid {
		t.Errorf("receipt verify: valid=false for a genuine receipt")
	}
}

// TestEndToEndOffline: the terminal starts and takes a deposit while the
// cloud is down; once the cloud is back the deposit reaches the timeline,
// exactly once.
func TestEndToEndOffline(t *testing.T) {
	cloudDir := t.TempDir()
	cloud, issuer, operator := startCloud(t, cloudDir, "127.0.0.1:0", "127.0.0.1:0")
	httpAddr, mqttAddr := hostOf(cloud.HTTPURL()), hostOf(cloud.MQTTURL())
	ra := createReturn(t, issuer)
	dir := t.TempDir()
	if _, err := Enroll(context.Background(), cloud.HTTPURL(), operator.key, "term-e2e-2", "Relais Hors Ligne", dir); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Close(); err != nil {
		t.Fatal(err)
	}

	term, kiosk := startTerminal(t, dir)
	var dep depositResult
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": ra.Token, "weight_g": 900}, &dep); code != http.StatusCreated {
		t.Fatalf("offline deposit: status %d", code)
	}
	var st Status
	kiosk.do("GET", "/api/status", nil, &st)
	if st.Online || st.OutboxPending != 1 {
		t.Fatalf("offline status: %+v, want offline with 1 pending", st)
	}

	cloud, issuer, _ = startCloud(t, cloudDir, httpAddr, mqttAddr)
	defer cloud.Close()
	waitForStatus(t, issuer, ra.Tracking, "deposited")

	// Let any resend land, then check the deposit is there once.
	deadline := time.Now().Add(20 * time.Second)
	for kiosk.do("GET", "/api/status", nil, &st); st.OutboxPending != 0; kiosk.do("GET", "/api/status", nil, &st) {
		if time.Now().After(deadline) {
			t.Fatalf("outbox never drained: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tl := waitForStatus(t, issuer, ra.Tracking, "deposited")
	if n := count(tl, "deposited"); n != 1 {
		t.Errorf("deposited %d times on the timeline, want once: %+v", n, tl)
	}
	var ti struct {
		AckedSeq uint64 `json:"acked_seq"`
	}
	_, operator.key, _ = cloud.Demo()
	if code := operator.do("GET", "/v1/terminals/"+term.Terminal(), nil, &ti); code != http.StatusOK || ti.AckedSeq != dep.Deposit.Seq {
		t.Errorf("terminal acked_seq %d (status %d), want %d", ti.AckedSeq, code, dep.Deposit.Seq)
	}
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return u.Host
}
