package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/comptoir/comptoir/edge"
)

// TestKioskMonthStatement: the shopkeeper opens the month's statement from
// the day's screen: in French, the parcels of the month and those paid,
// the refused scan among the refusals, on the smallest counter screen,
// printable alone (print media hides the kiosk's controls).
func TestKioskMonthStatement(t *testing.T) {
	issuer, dir := issuerTerminal(t, "term-kiosk-month")
	m, c := startTerminal(t, dir)
	for i := range 2 {
		if code := c.do("POST", "/api/deposits", map[string]any{"code": signRA(t, issuer, s10(700+i), nil), "weight_g": 700}, nil); code != http.StatusCreated {
			t.Fatalf("deposit: %d", code)
		}
	}
	expired := signRA(t, issuer, s10(710), func(ra *edge.ReturnAuthorisation) {
		ra.IssuedAt, ra.ExpiresAt = time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour)
	})
	var scan scanResult
	if code := c.do("POST", "/api/scan", map[string]string{"code": expired}, &scan); code != http.StatusOK || scan.Eligible {
		t.Fatalf("scan of an expired code: %d eligible %v", code, scan.Eligible)
	}

	var e apiError
	if code := c.do("GET", "/api/statement?month=2026-13", nil, &e); code != http.StatusBadRequest || e.Error.Code != edge.EINVALID {
		t.Errorf("bad month: %d %s, want 400 INVALID", code, e.Error.Code)
	}

	ctx := newBrowser(t)
	sz := kioskSizes[0]
	do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
	signInKiosk(t, ctx, m.URL())
	signInTouch(t, ctx, "1234")
	do(t, ctx, "month",
		chromedp.Click(chromedp.CSS(`#views button[data-view="day"]`)),
		chromedp.WaitVisible(chromedp.ID("day-month")),
		chromedp.Click(chromedp.ID("day-month")),
		chromedp.WaitVisible(chromedp.CSS(`#month-statement dd`)),
	)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#month-statement dt, #month-statement dd")].map((e) => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	// Months in French are lower case: "décembre 2026".
	month := strings.Join(got, " | ")
	want := " | Dépôts | 2 | Retours magasin | 0 | Annulés | 0 | Colis rémunérés | 2 | Remis au transporteur | 0 | Refus — Délai de retour dépassé. | 1"
	if !strings.HasPrefix(month, "Mois | ") || !strings.HasSuffix(month, want) {
		t.Errorf("statement: %q, want Mois | <month>%s", month, want)
	}
	kioskShot(t, ctx, t.TempDir(), sz.name, "month", "Relais Test", "Démo Clerc")
	// Printed, the statement stands alone.
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
	  for (const s of document.styleSheets) for (const r of s.cssRules) if (r.media && r.media.mediaText === "print" &&
	    document.querySelector("#month-print").matches(r.cssRules[0].selectorText)) return true;
	  return false; })()`))
	if err != nil || !hidden {
		t.Errorf("the print button is printed: %v %v", hidden, err)
	}
}
