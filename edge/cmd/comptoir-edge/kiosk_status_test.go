package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestKioskOffline shows the status bar of a terminal enrolled with a real
// cloud: online, then offline with its backlog once the cloud (and its
// broker) is gone, said calmly (deposits go on) and not in alarm red.
func TestKioskOffline(t *testing.T) {
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	closed := false
	t.Cleanup(func() {
		if !closed {
			cloud.Close()
		}
	})
	ra, ra2 := createReturn(t, issuer), createReturn(t, issuer)
	m, c := enrolledTerminal(t, cloud, operator, "term-kiosk-offline", "Relais Écran")
	ctx := newBrowser(t)
	for _, sz := range kioskSizes {
		do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
		signInKiosk(t, ctx, m.URL())
		do(t, ctx, "online",
			chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#net.online")),
			// Online, the terminal reads the cloud's time: nothing to say
			// of the clock.
			chromedp.Poll[chromedp.Void](`document.getElementById("clock").textContent === ""`),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("net"))); got != "En ligne" {
			t.Errorf("status bar says %q while the cloud is up", got)
		}
		kioskShot(t, ctx, t.TempDir(), sz.name, "online", "Démo Clerc")
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
		if net != "Hors ligne : les dépôts continuent" || !regexp.MustCompile(`^[0-9]+ opérations? à envoyer$`).MatchString(backlog) {
			t.Errorf("status bar without the cloud: %q, %q", net, backlog)
		}
		if bg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("net")).backgroundColor`)); bg == "rgb(176, 0, 32)" {
			t.Errorf("offline is shown in alarm red")
		}
		// Deposits go on offline: the drop-off screen takes a code.
		do(t, ctx, "offline drop-off",
			chromedp.Click(chromedp.ID("desk-title")),
			chromedp.KeyEvent(ra2.Token+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("deposit-form")),
		)
		kioskShot(t, ctx, t.TempDir(), sz.name, "offline", "Démo Clerc", "Robe", ra2.Tracking)
		do(t, ctx, "clear", chromedp.Evaluate[chromedp.Void](`reset()`))
	}
}

// TestKioskPrinterStates: at start the status bar says the printers are not
// checked yet (not "printer_undefined" in warning yellow), then, once a
// deposit printed, that they are ready; a state or refusal the catalog
// does not know shows a plain sentence, never its code.
func TestKioskPrinterStates(t *testing.T) {
	issuer, dir := issuerTerminal(t, "term-kiosk-printers")
	m, c := startTerminal(t, dir)
	ctx := newBrowser(t, chromedp.WindowSize(800, 480))
	signInKiosk(t, ctx, m.URL())
	do(t, ctx, "start",
		chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.Poll[chromedp.Void](`document.getElementById("printers").textContent !== ""`),
	)
	got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("printers")))
	class, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("printers").className`))
	if got != "Imprimantes pas encore vérifiées" || class == "warning" {
		t.Errorf("printers at start: %q (class %q), want Imprimantes pas encore vérifiées, not a warning", got, class)
	}
	header, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("statusbar").getBoundingClientRect().height`))
	if header > 90 {
		t.Errorf("the status bar is %.0f px tall at 800x480: more than two lines", header)
	}
	kioskShot(t, ctx, t.TempDir(), "800x480", "printers", "Démo Clerc")
	if code := c.do("POST", "/api/deposits", map[string]any{"code": signRA(t, issuer, s10(7000), nil), "weight_g": 700}, nil); code != http.StatusCreated {
		t.Fatalf("deposit: %d", code)
	}
	do(t, ctx, "printed", chromedp.Poll[chromedp.Void](`document.getElementById("printers").textContent === "Imprimantes OK"`))

	// What a newer agent may send, that this catalog does not know.
	texts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
	  printerStatus([{printer: "label", up: false, reason: "on_fire", pending: 1}]);
	  return [document.getElementById("printers").textContent, explain(["NEW_REFUSAL"]), errorText({code: "NEW_ERROR", message: "internal detail"}), t("no_such_key")];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Imprimante d'étiquettes : hors service (1 en attente, imprimé dès son retour)", "Code refusé.", "Le terminal n'a pas pu le faire.", "Information indisponible."}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("unknown codes read\n %q\nwant %q", texts, want)
	}
	checkWords(t, ctx, "unknown printer state", "Démo Clerc")
}
