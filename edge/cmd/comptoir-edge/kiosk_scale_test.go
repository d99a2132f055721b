package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/scale"
	"github.com/comptoir/comptoir/edge/scale/scaletest"
)

// TestKioskScale weighs parcels on a serial scale: a fake MT-SICS scale
// on a pseudo-terminal pair stands in for /dev/ttyUSB0 and answers the
// terminal's "SI" requests with real protocol lines. In real Chromium at
// both sizes the deposit screen says what the scale shows (stable, moving,
// overloaded, under zero, over the parcel's limit, pounds converted),
// fills the weight in only when it is stable, and the deposit carries the
// scale's weight; a weight typed by the clerk wins over the scale.
func TestKioskScale(t *testing.T) {
	fake := scaletest.NewSICS(t)
	issuer, dir := issuerTerminal(t, "term-kiosk-scale")
	m, c := startTerminal(t, dir, func(cfg *Config) {
		cfg.Scale = scale.Config{Device: fake.Path, Protocol: scale.MTSICS, Baud: 9600}
	})

	// The API of the scale, with the rules' limit (30 kg) or a lower one.
	fake.Show("S S      1.234 kg")
	var w edge.Weighing
	for w.State != edge.ScaleStable {
		if code := c.do("GET", "/api/scale", nil, &w); code != http.StatusOK {
			t.Fatalf("GET /api/scale: %d", code)
		}
	}
	if w != (edge.Weighing{State: edge.ScaleStable, Grams: 1234, Ready: true}) {
		t.Fatalf("weighing %+v", w)
	}
	if c.do("GET", "/api/scale?max_g=1000", nil, &w); w.Ready || w.Refusal != edge.Overweight {
		t.Fatalf("weighing over a 1 kg limit: %+v", w)
	}
	var e errorBody
	if code := c.do("GET", "/api/scale?max_g=lots", nil, &e); code != http.StatusBadRequest || e.Error.Code != edge.EINVALID {
		t.Fatalf("bad max_g: %d %+v", code, e)
	}

	ctx := newBrowser(t)
	for i, sz := range kioskSizes {
		tracking := s10(8000 + i)
		data := []string{"DEMO", "Pull", "Démo Clerc", "Relais Test", tracking}
		do(t, ctx, "viewport", chromedp.EmulateViewport(sz.w, sz.h))
		signInKiosk(t, ctx, m.URL())
		signInTouch(t, ctx, "1234")
		fake.Show("S D      0.310 kg")
		do(t, ctx, "scan",
			chromedp.Click(chromedp.ID("desk-title")),
			chromedp.KeyEvent(signRA(t, issuer, tracking, func(ra *edge.ReturnAuthorisation) { ra.MaxG = 2000 })+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("deposit-form")),
		)
		states := []struct {
			line, state, text, field string
		}{
			{"S D      0.310 kg", "unstable", "Balance : 0,31 kg, en cours de pesée…", ""},
			{"S +", "overload", "Balance en surcharge : le colis dépasse sa portée. Pesez-le ailleurs et tapez son poids.", ""},
			{"S S     -0.025 kg", "negative", "Balance sous zéro (-0,03 kg) : videz le plateau et remettez-la à zéro.", ""},
			{"S S      0.004 kg", "stable", "Balance : posez le colis sur le plateau.", ""},
			{"S S      2.500 kg", "stable", "Balance : 2,50 kg, plus que le maximum (2 kg).", ""},
			{"S S      2.000 lb", "stable", "Balance : 0,91 kg, stable.", "0,907"},
			{"S S      1.234 kg", "stable", "Balance : 1,23 kg, stable.", "1,234"},
		}
		for _, st := range states {
			fake.Show(st.line)
			want := jsString(st.text)
			do(t, ctx, st.line, chromedp.Poll[chromedp.Void](scaleSays+` === `+want))
			got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("scale").dataset.state, document.getElementById("weight").value]`))
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != st.state || got[1] != st.field {
				t.Errorf("%s at %s: state %q, field %q; want %q, %q", st.line, sz.name, got[0], got[1], st.state, st.field)
			}
			if st.state != "stable" || st.field != "" {
				// A warning is where the clerk's eye is, even when
				// it wraps below the fold of the small screen.
				inView(t, ctx, st.line+" at "+sz.name, "#scale")
				kioskShot(t, ctx, t.TempDir(), sz.name, "scale-"+st.state, data...)
			}
		}
		do(t, ctx, "deposit",
			chromedp.Click(chromedp.CSS(`#deposit-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("result")),
		)
		facts, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-facts")))
		if want := "1,23\u202fkg"; !strings.Contains(facts, want) { // as label and receipt print it
			t.Errorf("deposit at %s: %q, want the scale's %s", sz.name, facts, want)
		}
		if g := depositWeight(t, c, tracking); g != 1234 {
			t.Errorf("deposit at %s journalled with %d g, want the scale's 1234", sz.name, g)
		}
	}

	// A typed weight wins: the scale no longer fills the field.
	tracking := s10(8100)
	do(t, ctx, "typed",
		chromedp.Evaluate[chromedp.Void](`reset()`),
		chromedp.Click(chromedp.ID("desk-title")),
		chromedp.KeyEvent(signRA(t, issuer, tracking, nil)+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("deposit-form")),
		chromedp.Poll[chromedp.Void](`document.getElementById("weight").value === "1,234"`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("weight").value = ""`),
		chromedp.SendKeys(chromedp.ID("weight"), "2,5"),
	)
	fake.Show("S S      0.800 kg")
	do(t, ctx, "scale moves on", chromedp.Poll[chromedp.Void](scaleSays+` === "Balance : 0,80 kg, stable."`))
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("weight").value`)); v != "2,5" {
		t.Errorf("the scale overwrote the typed weight: %q", v)
	}

	// A terminal with no scale says so: weights are typed.
	_, dir2 := issuerTerminal(t, "term-kiosk-noscale")
	_, c2 := startTerminal(t, dir2)
	if code := c2.do("GET", "/api/scale", nil, &e); code != http.StatusNotFound || e.Error.Code != edge.ENOTFOUND {
		t.Fatalf("no scale: %d %+v", code, e)
	}
}

// scaleSays is the scale's line on the deposit screen, its spaces plain
// and its minus sign a hyphen (Intl writes "0,31\u00a0kg").
const scaleSays = `document.getElementById("scale").textContent.replace(/[\u00a0\u202f]/g, " ").replace(/\u2212/g, "-")`

// errorBody is an error answer of the terminal's API.
type errorBody struct {
	Error struct{ Code, Message string } `json:"error"`
}

// depositWeight returns the weight_g journalled for the deposit of
// tracking.
func depositWeight(t *testing.T, c *client, tracking string) int {
	t.Helper()
	var page struct {
		Operations []struct {
			Data struct {
				WeightG int `json:"weight_g"`
			} `json:"data"`
		} `json:"operations"`
	}
	if code := c.do("GET", "/api/operations?type=return.deposited&tracking="+tracking, nil, &page); code != http.StatusOK || len(page.Operations) != 1 {
		t.Fatalf("deposit of %s: status %d, %d operations", tracking, code, len(page.Operations))
	}
	return page.Operations[0].Data.WeightG
}
