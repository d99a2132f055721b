// Package browser starts the headless Chromium of the tests that look at
// pages (the kiosk's screens, the cloud's tracking page) and checks those
// pages with axe-core.
package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/comptoir/comptoir/build/testenv"
)

// New starts a headless Chromium that reaches nothing but loopback, at
// 1280x800 unless extra options say otherwise, in French (the language of
// a French terminal's kiosk, and of a French customer's browser). It skips
// when there is no Chromium (testenv.Chromium). The context it returns
// ends with t, or after five minutes: a guard against a hung browser, not
// a measure.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 800), chromedp.Flag("lang", "fr-FR"), chromedp.Flag("accept-lang", "fr-FR,fr"))
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// TestKioskScreens takes 40 s on two idle cores and over a minute
	// under -race.
	ctx, cancel3 := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// AxeRules are the WCAG 2.2 A and AA rules that axe-core runs.
var AxeRules = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join(testenv.RepoRoot(), "build", "axe", "node_modules", "axe-core", "axe.min.js"))
})

var axeMissing sync.Once

// Axe injects axe-core (npm ci --prefix build/axe) into the page of ctx and
// fails t on any violation of the WCAG 2.2 A and AA rules, naming where.
// Without axe-core it logs once that the check was skipped, or fails when
// integration tests are required.
func Axe(t testing.TB, ctx context.Context, where string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if testenv.Required() {
			t.Fatalf("axe-core missing (COMPTOIR_REQUIRE_INTEGRATION=1; npm ci --prefix build/axe): %v", err)
		}
		axeMissing.Do(func() {
			t.Logf("skipped: accessibility checks: axe-core not installed (npm ci --prefix build/axe): %v", err)
		})
		return
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		t.Fatalf("%s: axe: %v", where, err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
			t.Fatalf("%s: inject axe-core: %v", where, err)
		}
	}
	rules := `["` + strings.Join(AxeRules, `","`) + `"]`
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: "tag", values: `+rules+`}, resultTypes: ["violations"]})
	  .then((r) => r.violations.map((v) => v.id + " (" + v.help + "): " + v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\s+/g, " ")).join("; ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", where, err)
	}
	for _, v := range found {
		t.Errorf("%s: axe: %s", where, v)
	}
}
