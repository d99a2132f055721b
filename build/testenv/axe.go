package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// AxeRules are the WCAG 2.2 A and AA rules that axe-core runs.
var AxeRules = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join(RepoRoot(), "build", "axe", "node_modules", "axe-core", "axe.min.js"))
})

var axeMissing sync.Once

// CheckAxe injects axe-core (npm ci --prefix build/axe) into the page of
// ctx and fails t on any violation of AxeRules. Without axe-core it logs
// once that the check was skipped, or fails when integration tests are
// required.
func CheckAxe(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if Required() {
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

// Browser starts a headless Chromium (Chromium) that reaches nothing but
// loopback, at 1280x800, with extra options after those (a later option
// wins), closed at the end of the test. Its context has a guard of 5
// minutes against a hung browser, not a measure.
func Browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 800))
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}
