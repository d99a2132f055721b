package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// TestKioskShelfAndInstore runs the shelf and in-store pages in a real
// browser: the clerk hands over a parcel she scans, then the rest of the
// carrier's parcels from the shelf, then
// takes a return back in store, grading its item.
func TestKioskShelfAndInstore(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-kiosk-counter")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-kiosk-counter", trust)
	m, c := startTerminal(t, dir)
	for i := range 3 {
		if code := c.do("POST", "/api/deposits", map[string]any{"code": signRA(t, issuer, s10(880+i), nil), "weight_g": 600}, nil); code != http.StatusCreated {
			t.Fatalf("deposit: %d", code)
		}
	}
	instore := signRA(t, issuer, s10(890), nil)

	ctx := newBrowser(t)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(m.URL() + "/"),
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.Click(chromedp.CSS(`#views button[data-view="shelf"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#shelf-parcels tr:nth-child(3)`)),
		chromedp.SendKeys(chromedp.ID("handover-code"), s10(881)+kb.Enter),
		chromedp.Click(chromedp.ID("handover-send")),
		chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr:nth-child(3)`)),
		chromedp.Click(chromedp.CSS(`#shelf-carriers button.handover`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr`)),
		chromedp.Click(chromedp.CSS(`#views button[data-view="instore"]`)),
		chromedp.SendKeys(chromedp.ID("instore-code"), instore+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#instore-items tr .condition`)),
		chromedp.SetValue(chromedp.CSS(`#instore-items tr .condition`), "DAMAGED"),
		chromedp.SetValue(chromedp.ID("resolution"), "STORE_CREDIT"),
		chromedp.Click(chromedp.CSS(`#instore-form button[type="submit"]`)),
		chromedp.WaitNotVisible(chromedp.ID("instore-form")),
	}
	for i, step := range steps {
		if err := chromedp.Do(ctx, step); err != nil {
			t.Fatalf("kiosk flow, step %d: %v", i, err)
		}
	}

	var handed, received struct {
		Operations []edge.Operation `json:"operations"`
	}
	c.do("GET", "/api/operations?type=parcel.handed_over", nil, &handed)
	deadline := time.Now().Add(10 * time.Second)
	for len(received.Operations) == 0 && time.Now().Before(deadline) {
		c.do("GET", "/api/operations?type=instore.received", nil, &received)
	}
	if len(handed.Operations) != 3 || handed.Operations[0].Tracking != s10(881) {
		t.Errorf("handed over from the shelf page: %+v, want %s then the 2 others", handed.Operations, s10(881))
	}
	if len(received.Operations) != 1 || received.Operations[0].Tracking != s10(890) {
		t.Fatalf("in-store return from the kiosk: %+v", received.Operations)
	}
	var data edge.InstoreData
	if err := json.Unmarshal(received.Operations[0].Data, &data); err != nil || data.Resolution != edge.ResolutionStoreCredit || data.Items[0].Condition != edge.ConditionDamaged {
		t.Errorf("in-store return data %+v: %v", data, err)
	}
}
