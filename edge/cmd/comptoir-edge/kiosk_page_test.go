package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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
// control out of the screen, too small or unlabelled, if a word on screen
// is a catalog key or, on a French screen, not French (data are the words
// the test put there: trackings, names), or if axe-core finds a violation
// of the WCAG 2.2 A and AA rules.
func kioskShot(t *testing.T, ctx context.Context, dir, size, name string, data ...string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutJS))
	if err != nil {
		t.Fatalf("%s: layout check: %v", name, err)
	}
	if len(bad) > 0 {
		t.Errorf("%s at %s: %s", name, size, strings.Join(bad, "; "))
	}
	checkWords(t, ctx, name+" at "+size, data...)
	checkAxe(t, ctx, name+" at "+size)
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

// signInTouch enters pin on the login screen's keypad and presses its
// Enter key, by touch alone.
func signInTouch(t *testing.T, ctx context.Context, pin string) {
	t.Helper()
	for _, d := range pin {
		do(t, ctx, "keypad", chromedp.Click(chromedp.CSS(`#keypad button[data-digit="`+string(d)+`"]`)))
	}
	do(t, ctx, "keypad enter", chromedp.Click(chromedp.ID("pin-enter")), chromedp.WaitVisible(chromedp.ID("code")))
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
