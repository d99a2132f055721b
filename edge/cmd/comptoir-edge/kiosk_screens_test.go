package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	cloudpkg "github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// TestKioskScreens runs every job of the counter through the kiosk in a
// real Chromium at 800x480 and 1280x800: sign in on the keypad, a drop-off
// with the scanner typing into the page (the items of the return listed,
// the weight limit shown, weights typed as a scale shows them and
// implausible ones asked again), the receipt QR read back from a
// screenshot, a cancel confirmed in a dialog, a refusal in plain words, the
// next customer's scan with no tap, an in-store return, the shelf (ages,
// a cancel, a handover scanned then of all a carrier's parcels, each
// confirmed), history, the day closed by a manager, and the switch to
// English remembered across a reload. Each screen is checked for controls
// out of the screen, under 48 px or unlabelled, for words that are not the
// catalog's, and by axe-core; it is saved as PNG.
func TestKioskScreens(t *testing.T) {
	// A terminal enrolled with a real cloud, so that the screens show the
	// counter online (TestKioskOffline shows it offline); the codes are
	// signed by the demo merchant with a key of its own, registered first.
	cloud, _, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(func() { cloud.Close() })
	issuer, _ := token.GenerateKey("kiosk-screens")
	if code := operator.do("POST", "/v1/merchants/"+cloudpkg.DemoMerchant+"/keys",
		map[string]string{"kid": issuer.ID, "public_key": token.EncodePublicKey(issuer.Public())}, nil); code != http.StatusCreated {
		t.Fatalf("register the merchant's key: %d", code)
	}
	signRA := func(_ *testing.T, k token.Key, tracking string, mod func(*edge.ReturnAuthorisation)) string {
		return signRA(t, k, tracking, func(ra *edge.ReturnAuthorisation) {
			ra.Issuer = cloudpkg.DemoMerchant
			if mod != nil {
				mod(ra)
			}
		})
	}
	dir := t.TempDir()
	if _, err := Enroll(context.Background(), cloud.HTTPURL(), operator.key, "term-kiosk-screens", "Relais Test", dir); err != nil {
		t.Fatal(err)
	}
	// The counter's clock, moved back to put parcels on the shelf days ago.
	var back atomic.Int64
	m, c := startTerminalAt(t, dir, func() time.Time { return time.Now().Add(-time.Duration(back.Load())) })
	const managerPIN = "246810"
	if _, err := addStaff(context.Background(), m.journal, "Gérante Test", edge.RoleManager, managerPIN); err != nil {
		t.Fatal(err)
	}
	shots := t.TempDir()
	if *kioskDocs != "" {
		if err := os.MkdirAll(*kioskDocs, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// What the test puts on screen, besides the catalog's words.
	data := []string{"DEMO", "Pull", "SKU-1", "Démo Clerc", "Gérante Test", "Relais Test"}
	for i := range kioskSizes {
		for j := range 14 {
			data = append(data, s10(1000+100*i+j))
		}
	}
	ctx := newBrowser(t)
	for i, sz := range kioskSizes {
		serial := 1000 + 100*i
		// Two parcels on the shelf since four days (past the 72 h hold
		// time), for the handover.
		back.Store(int64(4 * 24 * time.Hour))
		for j := range 2 {
			if code := c.do("POST", "/api/deposits", map[string]any{"code": signRA(t, issuer, s10(serial+j), nil), "weight_g": 700}, nil); code != http.StatusCreated {
				t.Fatalf("deposit: %d", code)
			}
		}
		back.Store(0)
		drop, drop2 := signRA(t, issuer, s10(serial+10), nil), signRA(t, issuer, s10(serial+13), nil)
		expired := signRA(t, issuer, s10(serial+11), func(ra *edge.ReturnAuthorisation) {
			ra.IssuedAt, ra.ExpiresAt = time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour)
		})
		instore := signRA(t, issuer, s10(serial+12), nil)
		shot := func(name string) { t.Helper(); kioskShot(t, ctx, shots, sz.name, name, data...) }

		do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
		signInKiosk(t, ctx, m.URL())
		shot("login")
		do(t, ctx, "empty PIN", chromedp.Click(chromedp.ID("pin-enter")), chromedp.Poll[chromedp.Void](`document.getElementById("login-error").textContent !== ""`))
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("login-error"))); got != "Tapez votre code PIN." {
			t.Errorf("empty PIN: %q", got)
		}
		signInTouch(t, ctx, "1234")
		if i == 0 {
			// A photo of the code, through the kiosk's own button (the
			// browser's file input is hidden).
			png, err := encodeQR(drop, 400)
			if err != nil {
				t.Fatal(err)
			}
			photo := filepath.Join(t.TempDir(), "code.png")
			if err := os.WriteFile(photo, png, 0o644); err != nil {
				t.Fatal(err)
			}
			do(t, ctx, "photo",
				chromedp.WaitVisible(chromedp.ID("frame-pick")),
				chromedp.SetUploadFiles(chromedp.ID("frame"), []string{photo}),
				chromedp.WaitVisible(chromedp.ID("deposit-form")),
			)
			if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.ok"))); got != "Code valable : "+s10(serial+10)+" (retour autorisé)" {
				t.Errorf("photo of the code: %q", got)
			}
		}

		// Drop-off: the scanner types into the page, nothing focused.
		do(t, ctx, "drop-off",
			chromedp.Click(chromedp.ID("desk-title")),
			chromedp.KeyEvent(drop+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("deposit-form")),
		)
		limit, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("limit")))
		if err != nil || limit != "maximum 5\u202fkg" {
			t.Errorf("weight limit shown %q (%v), want the RA's 5 kg", limit, err)
		}
		// Polled: the answer is drawn again when the catalog changes
		// (i18n.onChange), and a read between the two drawings finds
		// the first list gone.
		const item = "Pull × 1 — taille qui ne va pas"
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#items li")?.textContent === `+jsString(item), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#items li")?.textContent ?? "(no list)"`))
			t.Errorf("items of the return: %q, want %q (%v)", got, item, err)
		}
		shot("eligible")
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
		// Weights as a scale shows them; wrong ones are asked again.
		for _, tt := range []struct{ typed, want string }{
			{"0,005", "Moins de 10 g : pesez le colis de nouveau."},
			{"6", "Refusé : Colis trop lourd. (maximum 5\u202fkg)"},
			{"850", "Refusé : Colis trop lourd. (maximum 5\u202fkg) Pour 850 grammes, tapez « 850 g »."},
			{"1 kilo", "Poids illisible : tapez des kilos (1,2) ou des grammes (850 g)."},
		} {
			do(t, ctx, "weight "+tt.typed,
				chromedp.Evaluate[chromedp.Void](`document.getElementById("weight").value = ""`),
				chromedp.SendKeys(chromedp.ID("weight"), tt.typed+kb.Enter),
				chromedp.WaitVisible(chromedp.ID("weight-msg")),
			)
			if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("weight-msg"))); got != tt.want {
				t.Errorf("weight %q: %q, want %q", tt.typed, got, tt.want)
			}
			inView(t, ctx, "weight "+tt.typed+" at "+sz.name, "#weight-msg")
		}
		if i == 0 {
			shot("weight")
		}
		typed := []string{"1,2", "1200 g"}[i]
		do(t, ctx, "deposit",
			chromedp.Evaluate[chromedp.Void](`document.getElementById("weight").value = ""`),
			chromedp.SendKeys(chromedp.ID("weight"), typed+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("result")),
			chromedp.Poll[chromedp.Void](`document.getElementById("r-qr").complete && document.getElementById("r-qr").naturalWidth > 0 && document.getElementById("r-qr").style.width !== ""`),
		)
		title, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-title")))
		facts, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-facts")))
		if title != "Colis déposé : "+s10(serial+10) || !strings.HasSuffix(facts, " — 1,20\u202fkg") {
			t.Errorf("receipt shows %q, %q; want the tracking %s and 1,20 kg", title, facts, s10(serial+10))
		}
		shot("receipt")
		// The receipt QR, read from the screen as a phone would.
		receipt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`lastDeposit.receipt.token`))
		if err != nil {
			t.Fatal(err)
		}
		var perfect []byte
		qrURL, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`lastDeposit.receipt.png_url`))
		if code := c.do("GET", qrURL, nil, &perfect); code != http.StatusOK {
			t.Fatalf("receipt QR: %d", code)
		}
		readScreenQR(t, ctx, shots, sz.name, receipt, perfect)
		inView(t, ctx, "receipt QR at "+sz.name, "#r-qr")
		inView(t, ctx, "receipt caption at "+sz.name, ".receipt figcaption")
		// The label prints the weight as the screen shows it.
		labelURL, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`lastDeposit.label.zpl_url`))
		var zpl []byte
		if code := c.do("GET", labelURL, nil, &zpl); code != http.StatusOK || !strings.Contains(string(zpl), "Poids : 1,20 kg") {
			t.Errorf("label (%d) does not print Poids : 1,20 kg", code)
		}

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
		shot("previews")

		// Cancel from the receipt: asked first; "no" keeps the deposit.
		do(t, ctx, "cancel asked",
			chromedp.Click(chromedp.ID("r-cancel")),
			chromedp.WaitVisible(chromedp.ID("confirm-yes")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("confirm-text"))); !strings.HasPrefix(got, "Annuler le dépôt "+s10(serial+10)+" ?") {
			t.Errorf("cancel question %q", got)
		}
		inView(t, ctx, "cancel question at "+sz.name, "#confirm")
		shot("confirm")
		do(t, ctx, "cancel declined", chromedp.Click(chromedp.ID("confirm-no")), chromedp.WaitNotVisible(chromedp.ID("confirm")))
		if visible, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("result").hidden`)); !visible {
			t.Errorf("declining the cancel left the receipt")
		}
		do(t, ctx, "cancel",
			chromedp.Click(chromedp.ID("r-cancel")),
			chromedp.Click(chromedp.ID("confirm-yes")),
			chromedp.WaitVisible(chromedp.CSS("#check p.cancelled")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.cancelled"))); got != "Dépôt "+s10(serial+10)+" annulé." {
			t.Errorf("cancel message %q", got)
		}
		inView(t, ctx, "cancel message at "+sz.name, "#check p.cancelled")
		if qr, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("result").hidden || document.getElementById("r-qr").hasAttribute("src")`)); qr {
			t.Errorf("the cancelled deposit's receipt QR is still on screen")
		}
		shot("cancelled")

		// A refusal, in plain words.
		do(t, ctx, "refusal",
			chromedp.KeyEvent(expired+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#check p.refused")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check p.refused"))); got != "Refusé : Délai de retour dépassé." {
			t.Errorf("refusal shown %q", got)
		}
		shot("refused")

		// After a deposit, the next customer's code is scanned with no tap.
		do(t, ctx, "deposit then next scan",
			chromedp.KeyEvent(drop2+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("deposit-form")),
			chromedp.KeyEvent("0,9"+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("result")),
			chromedp.KeyEvent(expired+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#check p.refused")),
		)
		if shown, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("result").hidden`)); shown {
			t.Errorf("the next scan left the last receipt on screen")
		}

		// In-store return.
		do(t, ctx, "in-store return",
			chromedp.Click(chromedp.CSS(`#views button[data-view="instore"]`)),
			chromedp.SendKeys(chromedp.ID("instore-code"), instore+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(`#instore-items tr .condition`)),
			chromedp.SetValue(chromedp.CSS(`#instore-items tr .condition`), "OPENED"),
		)
		shot("instore")
		do(t, ctx, "in-store save",
			chromedp.Click(chromedp.CSS(`#instore-form button[type="submit"]`)),
			chromedp.WaitNotVisible(chromedp.ID("instore-form")),
		)
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("instore-msg"))); got != "Retour enregistré : "+s10(serial+12) {
			t.Errorf("in-store message %q", got)
		}

		kioskShelf(t, ctx, sz.name, serial, shot)

		// History and the day.
		do(t, ctx, "history",
			chromedp.Click(chromedp.CSS(`#views button[data-view="history"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#history-ops tr`)),
		)
		shot("history")
		kioskDay(t, ctx, sz.name, managerPIN, i == 0, shot)

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
		shot("english")
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

// kioskShelf goes through the shelf: two parcels waiting for four days
// (overdue) and one of today; today's cancelled after a confirmation, one
// handed over scanned, then the rest of the carrier's after a confirmation.
func kioskShelf(t *testing.T, ctx context.Context, size string, serial int, shot func(string)) {
	t.Helper()
	do(t, ctx, "shelf",
		chromedp.Click(chromedp.CSS(`#views button[data-view="shelf"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#shelf-parcels tr:nth-child(3)`)),
	)
	state, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shelf-state")))
	ages, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#shelf-parcels tr td:nth-child(4)")].map((td) => td.textContent)`))
	overdue, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#shelf-parcels tr.overdue").length`))
	if state != "3 / 200 colis — 2 en retard" || overdue != 2 || len(ages) != 3 ||
		!strings.HasPrefix(ages[0], "4\u202fj") || !strings.HasSuffix(ages[0], "— en retard") || ages[2] != "moins d'une minute" {
		t.Errorf("shelf state %q, %d rows overdue, ages %q; want 3 / 200 colis — 2 en retard, 2 rows, 4 j … — en retard and moins d'une minute", state, overdue, ages)
	}
	shot("shelf")
	do(t, ctx, "shelf cancel",
		chromedp.Click(chromedp.CSS(`#shelf-parcels tr:nth-child(3) button.danger`)),
		chromedp.WaitVisible(chromedp.ID("confirm-yes")),
		chromedp.Click(chromedp.ID("confirm-yes")),
		chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr:nth-child(3)`)),
	)
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shelf-msg"))); got != "Dépôt "+s10(serial+13)+" annulé." {
		t.Errorf("shelf cancel message %q", got)
	}
	inView(t, ctx, "shelf cancel message at "+size, "#shelf-msg")
	do(t, ctx, "handover",
		chromedp.SendKeys(chromedp.ID("handover-code"), s10(serial)+kb.Enter),
		chromedp.Click(chromedp.ID("handover-send")),
		chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr:nth-child(2)`)),
		chromedp.WaitVisible(chromedp.ID("manifest-reprint")),
	)
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shelf-msg"))); !strings.HasPrefix(got, "1 colis remis à DEMO (bordereau ") {
		t.Errorf("handover message %q", got)
	}
	inView(t, ctx, "handover message at "+size, "#shelf-msg")
	shot("handover")
	do(t, ctx, "handover all asked",
		chromedp.Click(chromedp.CSS(`#shelf-carriers button.handover`)),
		chromedp.WaitVisible(chromedp.ID("confirm-yes")),
	)
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("confirm-text"))); got != "Remettre le colis à DEMO ? Il quittera l'étagère." {
		t.Errorf("handover question %q", got)
	}
	do(t, ctx, "handover all",
		chromedp.Click(chromedp.ID("confirm-yes")),
		chromedp.WaitNotPresent(chromedp.CSS(`#shelf-parcels tr`)),
	)
	inView(t, ctx, "handover all message at "+size, "#shelf-msg")
}

// kioskDay shows the day's summary; a manager signed in on the keypad
// closes it (when close is set) after a confirmation, else declines.
func kioskDay(t *testing.T, ctx context.Context, size, managerPIN string, close bool, shot func(string)) {
	t.Helper()
	do(t, ctx, "day",
		chromedp.Click(chromedp.CSS(`#views button[data-view="day"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#day-summary dd`)),
	)
	shot("day")
	do(t, ctx, "manager",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("keypad")),
	)
	signInTouch(t, ctx, managerPIN)
	do(t, ctx, "close asked",
		chromedp.Click(chromedp.CSS(`#views button[data-view="day"]`)),
		chromedp.WaitVisible(chromedp.ID("day-close")),
		chromedp.Click(chromedp.ID("day-close")),
		chromedp.WaitVisible(chromedp.ID("confirm-yes")),
	)
	if !close {
		do(t, ctx, "close declined", chromedp.Click(chromedp.ID("confirm-no")), chromedp.WaitNotVisible(chromedp.ID("confirm")))
		if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("day-msg"))); got != "" {
			t.Errorf("declining the close said %q", got)
		}
		return
	}
	do(t, ctx, "close",
		chromedp.Click(chromedp.ID("confirm-yes")),
		chromedp.Poll[chromedp.Void](`document.getElementById("day-msg").textContent !== ""`),
	)
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("day-msg"))); got != "Journée clôturée." {
		t.Errorf("day close message %q", got)
	}
	inView(t, ctx, "day close message at "+size, "#day-msg")
}
