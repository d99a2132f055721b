package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/build/testenv/browser"
	"github.com/comptoir/comptoir/scanner"
)

// wordsJS lists the visible words of the screen that are not the
// catalog's: a catalog key shown as text (snake_case), and on a French
// screen any text node, label or alternative text that the French catalog
// (with data: tracking numbers, names, numbers, dates) does not account
// for; also a browser file picker (its button speaks the browser's
// language) and a form that leaves validation to the browser (its bubbles
// too). Its argument is the data the test put on screen.
const wordsJS = `async (data) => {
  const bad = [], fr = document.documentElement.lang === "fr";
  const norm = (s) => s.replace(/[\u00a0\u202f]/g, " ").replace(/\s+/g, " ").trim();
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const cat = await (await fetch("/i18n/fr.json")).json();
  // A placeholder holds what is left once data and other sentences are
  // taken out: marks, digits and punctuation.
  const hole = "[#\\d\\s.,:;/+%()«»'’×—–-]*?";
  const words = [...data];
  const day = new Intl.DateTimeFormat("fr", { weekday: "long" }), month = new Intl.DateTimeFormat("fr", { month: "long" });
  for (let i = 0; i < 12; i++) { words.push(month.format(new Date(2026, i, 1))); if (i < 7) words.push(day.format(new Date(2026, 0, 5 + i))); }
  words.push("kg", "g", "min", "h", "j", "Go", "Mo", "ko");
  const dataRe = words.filter((w) => w).sort((a, b) => b.length - a.length)
    .map((w) => new RegExp("(?<![\\p{L}\\p{N}_])" + esc(norm(w)) + "(?![\\p{L}\\p{N}_])", "gu"));
  const undata = (text) => {
    let s = text.replace(/\b[0-9a-f]{8}(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?\b/g, "#"); // ids
    for (const r of dataRe) s = s.replace(r, "#");
    return s;
  };
  // Sentences are read with the data words taken out, as texts are.
  const sentences = Object.values(cat).map((v) => undata(norm(v))).filter((v) => v).sort((a, b) => b.length - a.length)
    .map((v) => new RegExp(esc(v).replace(/\\\{\w+\\\}/g, hole), "g"));
  const french = (text) => {
    let s = undata(norm(text));
    for (let i = 0; i < 6; i++) {
      const before = s;
      for (const r of sentences) s = s.replace(r, "#");
      if (s === before) break;
    }
    return !/\p{L}/u.test(s);
  };
  const shown = (el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const check = (text, where) => {
    if (/\b[a-z]+_[a-z0-9_]+\b/.test(text)) bad.push("catalog key on screen: " + JSON.stringify(text) + " in " + where);
    else if (fr && !french(text)) bad.push("not from the French catalog: " + JSON.stringify(norm(text)) + " in " + where);
  };
  const other = (el) => el.closest("[lang]") && el.closest("[lang]").lang !== document.documentElement.lang;
  const where = (el) => el.id || (el.parentElement && el.parentElement.id) || el.tagName;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.data.trim() || !shown(el) || other(el) || el.closest("script, style, option, dialog:not([open])")) continue;
    check(n.data, where(el));
  }
  for (const el of document.querySelectorAll("[aria-label], img[alt], [title], [placeholder]")) {
    if (!shown(el) || other(el)) continue;
    for (const a of ["aria-label", "alt", "title", "placeholder"]) if (el.getAttribute(a)) check(el.getAttribute(a), where(el) + "@" + a);
  }
  if (fr && !french(document.title)) bad.push("title not French: " + document.title);
  for (const f of document.querySelectorAll("input[type=file]")) if (shown(f)) bad.push("the browser's file picker is on screen: " + where(f));
  for (const f of document.querySelectorAll("form:not([novalidate])")) bad.push("form " + where(f) + " leaves validation to the browser");
  return bad;
}`

// checkAxe fails t on any violation of the WCAG 2.2 A and AA rules that
// axe-core finds on the screen (browser.Axe).
func checkAxe(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	browser.Axe(t, ctx, where)
}

// checkWords fails t on text of the screen that is a catalog key, or on a
// French screen is not French (see wordsJS); data is what the test put on
// screen (trackings, names).
func checkWords(t *testing.T, ctx context.Context, where string, data ...string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(`+wordsJS+`)(`+jsStrings(data)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: words check: %v", where, err)
	}
	for _, b := range bad {
		t.Errorf("%s: %s", where, b)
	}
}

// jsStrings quotes ss as a JavaScript array of strings.
func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = jsString(s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// inView fails t unless the element of selector sel is wholly within the
// viewport: where the clerk's eye is.
func inView(t *testing.T, ctx context.Context, where, sel string) {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
	  const e = document.querySelector(`+jsString(sel)+`), r = e.getBoundingClientRect();
	  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, h: innerHeight, w: innerWidth, sh: e.scrollHeight - e.clientHeight};
	})()`))
	if err != nil {
		t.Fatalf("%s: %s: %v", where, sel, err)
	}
	if r["bottom"] <= r["top"] || r["top"] < 0 || r["bottom"] > r["h"] || r["left"] < 0 || r["right"] > r["w"] || r["sh"] > 0 {
		t.Errorf("%s: %s is not wholly in view: %v", where, sel, r)
	}
}

// readScreenQR takes a screenshot of the viewport and reads its QR codes
// with our scanner and with zbarimg (skipped when zbar is absent), failing
// t unless both find want. Our scanner (gozxing) misses about one clean QR
// code in 50 whatever its size (the code's own pattern); when it misses the
// screenshot, perfect, the QR drawn without the screen (one pixel a module,
// from perfect, scaled 4 times), must be missed too, so that the miss is
// the scanner's and not the screen's.
func readScreenQR(t *testing.T, ctx context.Context, dir, where, want string, perfect []byte) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: screenshot: %v", where, err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := scanner.DecodeImage(context.Background(), img)
	ours := false
	for _, s := range syms {
		ours = ours || s.Text == want
	}
	if !ours {
		if scannerReads(t, perfect, want) {
			t.Errorf("%s: our scanner did not read the receipt QR from the screenshot (%d symbols, %v), but reads it drawn without the screen", where, len(syms), err)
		} else {
			t.Logf("%s: our scanner misses this receipt's QR code even drawn without the screen (gozxing misses about 1 clean code in 50): zbar must read it", where)
		}
	}
	path := filepath.Join(dir, where+"-qr.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("zbarimg missing (Debian package zbar-tools; COMPTOIR_REQUIRE_INTEGRATION=1)")
		}
		t.Logf("skipped: zbarimg not found (Debian package zbar-tools): the screenshot was read by our scanner only")
		return
	}
	out, err := exec.Command(zbar, "-q", "--raw", path).Output()
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("%s: zbarimg did not read the receipt QR from %s: %v %q", where, path, err, out)
	}
}

// scannerReads reports whether our scanner reads want from the PNG img of a
// QR code at one pixel per module, scaled 4 times.
func scannerReads(t *testing.T, img []byte, want string) bool {
	t.Helper()
	src, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("receipt QR: %v", err)
	}
	const k = 4
	b := src.Bounds()
	big := image.NewGray(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range big.Rect.Dy() {
		for x := range big.Rect.Dx() {
			big.Set(x, y, src.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	syms, _ := scanner.DecodeImage(context.Background(), big)
	return len(syms) > 0 && syms[0].Text == want
}
