package main

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/comptoir/comptoir/scanner/token"
)

// TestKioskClock: the status bar of a terminal that never read the cloud's
// time says its time is not synced, calmly; once its system clock is set
// fifty hours back under it, it says the clock is wrong, as a warning, in
// French and in English.
func TestKioskClock(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-kiosk-clock", token.NewTrustList())
	var skew atomic.Int64
	m, c := startSkewed(t, dir, &skew)
	t.Cleanup(func() { m.Close() })
	if code := c.do("POST", "/api/deposits", map[string]any{"code": s10(701), "weight_g": 500}, nil); code != http.StatusCreated {
		t.Fatalf("deposit: %d", code)
	}
	ctx := newBrowser(t)
	clock := func() (string, string) {
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("clock")))
		cls, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("clock").className`))
		return text, cls
	}
	for _, sz := range kioskSizes {
		do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
		signInKiosk(t, ctx, m.URL())
		skew.Store(0)
		do(t, ctx, "unsynced",
			chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#net.offline")),
			chromedp.Poll[chromedp.Void](`document.getElementById("clock").textContent !== ""`),
		)
		if text, cls := clock(); text != "Heure non synchronisée" || cls != "" {
			t.Errorf("clock never synced: %q (class %q), want the plain unsynced sentence", text, cls)
		}
		skew.Store(int64(-50 * time.Hour))
		do(t, ctx, "clock set back", chromedp.WaitVisible(chromedp.CSS("#clock.warning")))
		if text, _ := clock(); !strings.HasPrefix(text, "Horloge du terminal fausse (écart de 2") {
			t.Errorf("clock fifty hours back: %q, want the wrong clock and its gap", text)
		}
		kioskShot(t, ctx, t.TempDir(), sz.name, "clock wrong", "Démo Clerc")
	}
	do(t, ctx, "english", chromedp.Click(chromedp.ID("lang")),
		chromedp.Poll[chromedp.Void](`document.getElementById("clock").textContent.startsWith("Terminal clock wrong")`))
}
