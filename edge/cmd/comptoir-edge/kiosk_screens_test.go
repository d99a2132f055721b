package main

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// kioskDocs, when set (make docs-kiosk), is where the screenshots of the
// 800x480 run are copied for the README.
var kioskDocs = flag.String("kiosk-docs", "", "directory to write the kiosk's screenshots to (docs/kiosk)")

// kioskSizes are the screens the kiosk must fit: the smallest counter
// screen and a 10-inch tablet.
var kioskSizes = []struct {
	name string
	w, h int64
}{{"800x480", 800, 480}, {"1280x800", 1280, 800}}

// layoutJS lists what is wrong with the screen: a resource loaded from
// outside the terminal, something the CSP blocked, a page wider than the
// screen, or a visible control sticking out of the viewport on either side,
// clipped by a scrolling ancestor, lower than 48 px or with no accessible
// name.
const layoutJS = `(() => {
  const bad = [], W = window.innerWidth;
  if (document.documentElement.scrollWidth > W) bad.push("page is " + document.documentElement.scrollWidth + " px wide, screen " + W);
  for (const e of performance.getEntriesByType("resource")) {
    if (!e.name.startsWith(location.origin + "/")) bad.push("loaded from outside the terminal: " + e.name);
  }
  if (!window.cspViolations) bad.push("app.js did not run");
  else if (window.cspViolations.length) bad.push("blocked by the CSP: " + window.cspViolations.join(", "));
  const name = (e) => e.id || e.className || e.tagName + ":" + e.textContent.trim().slice(0, 24);
  const labelled = (e) => (e.labels && e.labels.length > 0) || e.getAttribute("aria-label") ||
    ((e.tagName === "BUTTON" || e.tagName === "A" || e.tagName === "SUMMARY") && e.textContent.trim());
  for (const e of document.querySelectorAll("button, input, select, a, summary")) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue; // not displayed
    if (r.left < -0.5 || r.right > W + 0.5) bad.push(name(e) + " spans " + r.left + ".." + r.right + " of " + W);
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX === "visible" && cs.overflowY === "visible") continue;
      const q = p.getBoundingClientRect();
      if (r.left < q.left - 0.5 || r.right > q.right + 0.5) bad.push(name(e) + " clipped by " + name(p));
    }
    if (r.height < 47.5) bad.push(name(e) + " is " + r.height + " px tall");
    if (!labelled(e)) bad.push(name(e) + " has no label");
  }
  return bad;
})()`

// kioskShot saves a screenshot of the viewport in dir (and in -kiosk-docs
// for the small screen) and fails the test if the layout check finds a
// control out of the screen, too small or unlabelled.
func kioskShot(t *testing.T, ctx context.Context, dir, size, name string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutJS))
	if err != nil {
		t.Fatalf("%s: layout check: %v", name, err)
	}
	if len(bad) > 0 {
		t.Errorf("%s at %s: %s", name, size, strings.Join(bad, "; "))
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, size+"-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *kioskDocs != "" && size == kioskSizes[0].name {
		if err := os.WriteFile(filepath.Join(*kioskDocs, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// do runs steps one by one, naming the one that fails.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, s := range steps {
		if err := chromedp.Do(ctx, s); err != nil {
			t.Fatalf("%s, step %d: %v", what, i, err)
		}
	}
}

// signInKiosk opens the kiosk signed out, in French, and signs in.
func signInKiosk(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.Navigate(url+"/"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "1"`),
		chromedp.Evaluate[chromedp.Void](`localStorage.removeItem("comptoir.lang"); fetch("/api/session", {method: "DELETE"}).then(() => 1)`, chromedp.EvalAwaitPromise),
		chromedp.Reload(),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "1"`),
		chromedp.WaitVisible(chromedp.ID("pin")),
	)
}

// TestKioskScreens runs every job of the counter through the kiosk in a
// real Chromium at 800x480 and 1280x800: sign in, a drop-off with the
// scanner typing into the page (the weight limit shown), the receipt, a
// cancel, a refusal in plain words, an in-store return, a handover scanned
// then of all a carrier's parcels with its manifest, history, day, and the
// switch to English remembered across a reload. Each screen is checked for
// controls out of the screen, under 48 px or unlabelled, and saved as PNG.
func TestKioskScreens(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-kiosk-screens")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-kiosk-screens", trust)
	// Parcels are overdue at once, to show it on the shelf.
	m, c := startTerminal(t, dir, func(c *Config) { c.Rules.HoldTime = time.Millisecond })
	shots := t.TempDir()
	if *kioskDocs != "" {
		if err := os.MkdirAll(*kioskDocs, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowser(t)
	for i, sz := range kioskSizes {
		serial := 1000 + 100*i
		// Two parcels already on the shelf for the handover.
		for j := range 2 {
			if code := c.do("POST", "/api/deposits", map[string]any{"code": signRA(t, issuer, s10(serial+j), nil), "weight_g": 700}, nil); code != http.StatusCreated {
				t.Fatalf("deposit: %d", code)
			}
		}
		drop := signRA(t, issuer, s10(serial+10), nil)
		expired := signRA(t, issuer, s10(serial+11), func(ra *edge.ReturnAuthorisation) {
			ra.IssuedAt, ra.ExpiresAt = time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour)
		})
		instore := signRA(t, issuer, s10(serial+12), nil)

		do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
		signInKiosk(t, ctx, m.URL())
		kioskShot(t, ctx, shots, sz.name, "login")

		// Drop-off: the scanner types into the page, nothing focused.
		do(t, ctx, "drop-off",
			chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("code")),
			chromedp.Click(chromedp.ID("desk-title")),
			chromedp.KeyEvent(drop+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("deposit-form")),
		)
		limit, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("limit")))
		if err != nil || limit != "maximum 5\u202fkg" {
			t.Errorf("weight limit shown %q (%v), want the RA's 5 kg", limit, err)
		}
		kioskShot(t, ctx, shots, sz.name, "eligible")
		if i == 0 {
			// The next code scanned while the weight field has the focus
			// goes to the code field, not into the weight.
			do(t, ctx, "scan while weighing",
				chromedp.KeyEvent(expired+kb.Enter),
				chromedp.WaitVisible(chromedp.CSS("#check p.refused")),
				chromedp.WaitNotVisible(chromedp.ID("deposit-form")),
				chromedp.KeyEvent(drop+kb.Enter),
				chromedp.WaitVisible(chromedp.ID("deposit-form")),
			)
		}
		do(t, ctx, "overweight",
			chromedp.SendKeys(chromedp.ID("weight"), "6000"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#check p.refused")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.refused"))); got != "Refusé : Colis trop lourd. (maximum 5\u202fkg)" {
			t.Errorf("overweight parcel: %q", got)
		}
		do(t, ctx, "deposit",
			chromedp.SendKeys(chromedp.ID("weight"), "1500"+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("result")),
			chromedp.Poll[chromedp.Void](`document.getElementById("r-qr").complete && document.getElementById("r-qr").naturalWidth > 0`),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-tracking"))); got != s10(serial+10) {
			t.Errorf("receipt shows tracking %q, want %s", got, s10(serial+10))
		}
		kioskShot(t, ctx, shots, sz.name, "receipt")
		do(t, ctx, "reprint",
			chromedp.Click(chromedp.ID("r-reprint-receipt")),
			chromedp.Poll[chromedp.Void](`document.getElementById("r-msg").textContent !== ""`),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-msg"))); got != "Réimpression demandée." {
			t.Errorf("reprint of the receipt: %q", got)
		}
		// The label and receipt as printed, drawn by the terminal.
		do(t, ctx, "previews",
			chromedp.Click(chromedp.CSS("#r-label-box summary")),
			chromedp.Poll[chromedp.Void](`document.getElementById("r-label").complete && document.getElementById("r-label").naturalWidth > 0`),
			chromedp.Click(chromedp.CSS("#r-receipt-box summary")),
			chromedp.Poll[chromedp.Void](`document.getElementById("r-receipt").complete && document.getElementById("r-receipt").naturalWidth > 0`),
		)
		if pdf, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("r-label-pdf"), "href")); !strings.HasSuffix(pdf.Value, "/label.pdf") {
			t.Errorf("label PDF link %q", pdf.Value)
		}
		do(t, ctx, "previews shown", chromedp.ScrollIntoView(chromedp.ID("r-label")))
		kioskShot(t, ctx, shots, sz.name, "previews")

		// Cancel within the grace window, from the receipt.
		do(t, ctx, "cancel",
			chromedp.Click(chromedp.ID("r-cancel")),
			chromedp.Poll[chromedp.Void](`document.getElementById("r-msg").textContent.includes("annulé")`),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-msg"))); got != "Dépôt "+s10(serial+10)+" annulé." {
			t.Errorf("cancel message %q", got)
		}

		// A refusal, in plain words.
		do(t, ctx, "refusal",
			chromedp.Click(chromedp.ID("next")),
			chromedp.Click(chromedp.ID("desk-title")),
			chromedp.KeyEvent(expired+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#check p.refused")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.refused"))); got != "Refusé : Délai de retour dépassé." {
			t.Errorf("refusal shown %q", got)
		}
		kioskShot(t, ctx, shots, sz.name, "refused")

		// In-store return.
		do(t, ctx, "in-store return",
			chromedp.Click(chromedp.CSS(`#views button[data-view="instore"]`)),
			chromedp.SendKeys(chromedp.ID("instore-code"), instore+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(`#instore-items tr .condition`)),
			chromedp.SetValue(chromedp.CSS(`#instore-items tr .condition`), "OPENED"),
		)
		kioskShot(t, ctx, shots, sz.name, "instore")
		do(t, ctx, "in-store save",
			chromedp.Click(chromedp.CSS(`#instore-form button[type="submit"]`)),
			chromedp.WaitNotVisible(chromedp.ID("instore-form")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("instore-msg"))); got != "Retour enregistré : "+s10(serial+12) {
			t.Errorf("in-store message %q", got)
		}

		// The shelf, a parcel scanned for the driver, then the rest.
		do(t, ctx, "shelf",
			chromedp.Click(chromedp.CSS(`#views button[data-view="shelf"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#shelf-parcels tr:nth-child(2)`)),
		)
		state, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shelf-state")))
		overdue, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#shelf-parcels tr.overdue").length`))
		if state != "2 / 200 colis — 2 en retard" || overdue != 2 {
			t.Errorf("shelf state %q with %d rows overdue; want 2 / 200 colis — 2 en retard, 2 rows", state, overdue)
		}
		kioskShot(t, ctx, shots, sz.name, "shelf")
		do(t, ctx, "handover",
			chromedp.SendKeys(chromedp.ID("handover-code"), s10(serial)+kb.Enter),
			chromedp.Click(chromedp.ID("handover-send")),
			chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr:nth-child(2)`)),
			chromedp.WaitVisible(chromedp.ID("manifest-reprint")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shelf-msg"))); !strings.HasPrefix(got, "1 colis remis à DEMO (bordereau ") {
			t.Errorf("handover message %q", got)
		}
		kioskShot(t, ctx, shots, sz.name, "handover")
		do(t, ctx, "handover all",
			chromedp.Click(chromedp.CSS(`#shelf-carriers button.handover`)),
			chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr`)),
		)

		// History and the day.
		do(t, ctx, "history",
			chromedp.Click(chromedp.CSS(`#views button[data-view="history"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#history-ops tr`)),
		)
		kioskShot(t, ctx, shots, sz.name, "history")
		do(t, ctx, "day",
			chromedp.Click(chromedp.CSS(`#views button[data-view="day"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#day-summary dd`)),
		)
		kioskShot(t, ctx, shots, sz.name, "day")

		// English, remembered across a reload; then back to French.
		do(t, ctx, "language",
			chromedp.Click(chromedp.ID("lang")),
			chromedp.Poll[chromedp.Void](`document.documentElement.lang === "en"`),
			chromedp.Reload(),
			chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "1"`),
			chromedp.WaitVisible(chromedp.ID("code")),
			chromedp.Click(chromedp.ID("desk-title")),
			chromedp.KeyEvent("HELLO"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#check p.refused")),
		)
		got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.refused")))
		nav, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#views button[data-view="desk"]`)))
		if got != "Refused: This is neither a return code nor a tracking number." || nav != "Drop-off" {
			t.Errorf("in English: refusal %q, tab %q", got, nav)
		}
		kioskShot(t, ctx, shots, sz.name, "english")
		do(t, ctx, "back to French",
			chromedp.Click(chromedp.ID("lang")),
			chromedp.Poll[chromedp.Void](`document.documentElement.lang === "fr"`),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.refused"))); got != "Refusé : Ce n'est ni un code de retour ni un numéro de suivi." {
			t.Errorf("back in French, the refusal reads %q", got)
		}
	}
	t.Logf("screenshots in %s", shots)
}

// TestKioskOffline shows the status bar of a terminal enrolled with a real
// cloud: online, then offline with its backlog once the cloud (and its
// broker) is gone.
func TestKioskOffline(t *testing.T) {
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	closed := false
	t.Cleanup(func() {
		if !closed {
			cloud.Close()
		}
	})
	ra := createReturn(t, issuer)
	m, c := enrolledTerminal(t, cloud, operator, "term-kiosk-offline", "Relais Écran")
	ctx := newBrowser(t)
	for _, sz := range kioskSizes {
		do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
		signInKiosk(t, ctx, m.URL())
		do(t, ctx, "online",
			chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#net.online")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("net"))); got != "En ligne" {
			t.Errorf("status bar says %q while the cloud is up", got)
		}
		kioskShot(t, ctx, t.TempDir(), sz.name, "online")
	}
	if err := cloud.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if code := c.do("POST", "/api/deposits", map[string]any{"code": ra.Token, "weight_g": 900}, nil); code != http.StatusCreated {
		t.Fatalf("offline deposit: %d", code)
	}
	for _, sz := range kioskSizes {
		do(t, ctx, "offline",
			chromedp.EmulateViewport(sz.w, sz.h),
			chromedp.WaitVisible(chromedp.CSS("#net.offline")),
			chromedp.Poll[chromedp.Void](`document.getElementById("backlog").textContent !== ""`),
		)
		net, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("net")))
		backlog, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("backlog")))
		if net != "Hors ligne" || !strings.HasSuffix(backlog, " à envoyer") {
			t.Errorf("status bar without the cloud: %q, %q", net, backlog)
		}
		kioskShot(t, ctx, t.TempDir(), sz.name, "offline")
	}
}

// keyboardOnly reaches the shelf page with Tab and Enter alone, and checks
// that the control with the focus shows it.
func keyboardOnly(t *testing.T, ctx context.Context) {
	t.Helper()
	const onShelfTab = `document.activeElement && document.activeElement.dataset.view === "shelf"`
	for range 40 {
		at, err := chromedp.Run(ctx, chromedp.Evaluate[bool](onShelfTab))
		if err != nil {
			t.Fatal(err)
		}
		if at {
			break
		}
		do(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
	}
	outline, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(`+onShelfTab+`) ? getComputedStyle(document.activeElement).outlineStyle : "not reached"`))
	if err != nil || outline == "none" || outline == "not reached" {
		t.Fatalf("keyboard: the shelf tab's focus outline is %q (%v)", outline, err)
	}
	do(t, ctx, "keyboard", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("shelf-state")))
}
