package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/edge"
)

// scanLatencyJS times, inside the page, each scan from the keydown of the
// scanner's Enter to the answer in #check: "dom" when the MutationObserver
// sees it, "frame" at the next animation frame (when it is painted).
const scanLatencyJS = `(() => {
  window.scanLat = { dom: [], frame: [], kinds: [] };
  let t0;
  document.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target.id === "code") t0 = performance.now(); }, { capture: true });
  new MutationObserver(() => {
    if (t0 === undefined || !document.querySelector("#check p")) return;
    const start = t0; t0 = undefined;
    window.scanLat.dom.push(performance.now() - start);
    window.scanLat.kinds.push(document.querySelector("#check p").className);
    requestAnimationFrame(() => window.scanLat.frame.push(performance.now() - start));
  }).observe(document.getElementById("check"), { childList: true, subtree: true });
})()`

// BenchmarkKioskScan measures, in Chromium, the time from the scanner's
// Enter to the eligibility answer on the drop-off screen, alternating a
// valid return code and an expired one (refused). The code is put in the
// field by script; the Enter is a real key event.
func BenchmarkKioskScan(b *testing.B) {
	issuer, dir := issuerTerminal(b, "term-kiosk-bench")
	m, _ := startTerminal(b, dir)
	codes := []string{
		signRA(b, issuer, s10(5000), nil),
		signRA(b, issuer, s10(5001), func(ra *edge.ReturnAuthorisation) {
			ra.IssuedAt, ra.ExpiresAt = time.Now().Add(-30*24*time.Hour), time.Now().Add(-time.Hour)
		}),
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(b)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(800, 480), chromedp.Flag("lang", "fr-FR"), chromedp.Flag("accept-lang", "fr-FR,fr"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()

	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "1"`),
		chromedp.Evaluate[chromedp.Void](`fetch("/api/session", {method: "DELETE"}).then(() => 1)`, chromedp.EvalAwaitPromise),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.Evaluate[chromedp.Void](scanLatencyJS),
	)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		code := codes[i%2]
		err := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`{ document.getElementById("check").replaceChildren();
				const c = document.getElementById("code"); c.value = `+jsString(code)+`; c.focus(); }`),
			chromedp.KeyEvent(kb.Enter),
			chromedp.PollFunction[chromedp.Void](`(n) => window.scanLat.frame.length >= n`, chromedp.WithPollingArgs(i+1)),
		)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	lat, err := chromedp.Run(ctx, chromedp.Evaluate[map[string][]float64](`({dom: window.scanLat.dom, frame: window.scanLat.frame})`))
	if err != nil {
		b.Fatal(err)
	}
	kinds, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.scanLat.kinds`))
	if err != nil {
		b.Fatal(err)
	}
	if len(lat["dom"]) != b.N || len(kinds) != b.N {
		b.Fatalf("%d answers timed for %d scans", len(lat["dom"]), b.N)
	}
	for i, k := range kinds {
		if want := []string{"ok", "refused"}[i%2]; k != want {
			b.Fatalf("scan %d answered %q, want %q", i, k, want)
		}
	}
	for _, k := range []string{"dom", "frame"} {
		v := slices.Clone(lat[k])
		slices.Sort(v)
		b.ReportMetric(v[len(v)/2], "median-"+k+"-ms")
		b.ReportMetric(v[(len(v)*95+99)/100-1], "p95-"+k+"-ms")
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
