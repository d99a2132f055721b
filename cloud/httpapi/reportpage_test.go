package httpapi_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/comptoir/comptoir/build/testenv/browser"
	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
)

// reportDocs, when set, is where the report page's screenshots are
// written for the README (docs/reports).
var reportDocs = flag.String("report-docs", "", "directory to write the report page's screenshots to (docs/reports)")

// TestReportPage signs in to the report page in a real Chromium, with a
// wrong key, a merchant's key and the operator's, on ReportFixture's
// returns: the tables under the charts hold the reports' figures, each
// scope sees its own, and every screen passes axe-core's WCAG 2.2 AA
// rules.
func TestReportPage(t *testing.T) {
	s := MustServer(t)
	storetest.ReportFixture(t, s.Store)
	if err := s.Store.PutAPIKey(context.Background(), cloud.APIKey{Hash: cloud.HashSecret("beta-key"), Role: cloud.RoleIssuer, Merchant: "beta"}); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }
	if err := s.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := browser.New(t, chromedp.WindowSize(1100, 900))
	base := s.URL()

	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for _, a := range actions {
			if _, err := chromedp.Run(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(got), " ")
	}
	// signIn submits key and waits for the page it leads to to show then.
	signIn := func(key, then string) {
		t.Helper()
		run(chromedp.Navigate(base+"/reports"), chromedp.WaitVisible(chromedp.ID("key")),
			chromedp.SendKeys(chromedp.ID("key"), key), chromedp.Submit(chromedp.ID("key")), chromedp.WaitVisible(chromedp.ID(then)))
	}
	shot := func(name string) {
		t.Helper()
		if *reportDocs == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*reportDocs, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	run(chromedp.Navigate(base+"/reports"), chromedp.WaitVisible(chromedp.ID("key")))
	browser.Axe(t, ctx, "sign-in")
	signIn("not-a-key", "signin-error")
	if got := text("#signin-error"); got != "The API key is not valid." {
		t.Errorf("wrong key: %q", got)
	}
	browser.Axe(t, ctx, "sign-in refused")
	signIn(partnerKey, "signin-error")
	if got := text("#signin-error"); !strings.Contains(got, "cannot read reports") {
		t.Errorf("partner key: %q", got)
	}

	// The merchant acme: its returns only (A1..A5; beta's B1 is not there).
	signIn(issuerKey, "t-reasons")
	run(chromedp.Navigate(base+"/reports?from=2026-11-10&to=2026-11-21"), chromedp.WaitVisible(chromedp.ID("t-reasons")))
	browser.Axe(t, ctx, "report acme")
	shot("report")
	// A5 was created on 11-10 (CHANGED_MIND), A1..A4 on 11-20: A1 and A2
	// CHANGED_MIND, A1 DAMAGED, A3 WRONG_SIZE, A4 NOT_AS_DESCRIBED.
	want := "Reason 11-10 11-11 11-12 11-13 11-14 11-15 11-16 11-17 11-18 11-19 11-20 11-21 " +
		"CHANGED_MIND 1 0 0 0 0 0 0 0 0 0 2 0 " +
		"DAMAGED 0 0 0 0 0 0 0 0 0 0 1 0 " +
		"NOT_AS_DESCRIBED 0 0 0 0 0 0 0 0 0 0 1 0 " +
		"WRONG_SIZE 0 0 0 0 0 0 0 0 0 0 1 0"
	if got := strings.TrimPrefix(text("#t-reasons"), "Returns created by reason "); got != want {
		t.Errorf("acme's reasons:\n got %s\nwant %s", got, want)
	}
	if got := text("#t-dispositions tbody"); got != "RESTOCK 1 0 1" {
		t.Errorf("acme's dispositions: %q, want RESTOCK 1 0 1", got)
	}
	// At 11-30 12:00: A5 waits at t-1 since 11-11 (19 days), A3 since
	// 11-21 (9 days); nothing of acme's waits for the carrier.
	if got := text("#t-stuck tbody"); got != "awaiting_handover 0 0 0 1 1 awaiting_carrier 0 0 0 0 0" {
		t.Errorf("acme's stuck parcels: %q", got)
	}
	// Bars: 5 of reasons (one per non-zero cell), 1 disposition, 1
	// resolution, 2 of stuck parcels.
	if bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg rect").length`)); err != nil || bars != 9 {
		t.Errorf("bars drawn: %d, %v; want 9", bars, err)
	}

	// Another merchant sees none of acme's returns.
	run(chromedp.Navigate(base+"/reports"), chromedp.WaitVisible(chromedp.CSS("header button")),
		chromedp.Submit(chromedp.CSS("header form")), chromedp.WaitVisible(chromedp.ID("key")))
	signIn("beta-key", "t-reasons")
	run(chromedp.Navigate(base+"/reports?from=2026-11-10&to=2026-11-21"), chromedp.WaitVisible(chromedp.ID("t-reasons")))
	if got := text("#t-reasons tbody"); got != "CHANGED_MIND 0 0 0 0 0 0 0 0 0 0 1 0" {
		t.Errorf("beta's reasons: %q", got)
	}
	if got := text("#t-dispositions tbody"); got != "" {
		t.Errorf("beta sees dispositions: %q", got)
	}

	// A bad range is said on the page.
	run(chromedp.Navigate(base+"/reports?from=2026-11-21&to=2026-11-10"), chromedp.WaitVisible(chromedp.ID("report-error")))
	if got := text("#report-error"); !strings.Contains(got, "is before from") {
		t.Errorf("bad range: %q", got)
	}
	browser.Axe(t, ctx, "report error")
}

// TestReportSessionForm: the sign-in form's answers without a browser: a
// cross-site post is refused, a good key sets an HttpOnly, SameSite=Strict
// cookie that is not the key, and the page forbids every outside asset.
func TestReportSessionForm(t *testing.T) {
	s := MustServer(t)
	post := func(key, site string) *http.Response {
		t.Helper()
		req := httptest.NewRequest("POST", "/reports/session", strings.NewReader(url.Values{"key": {key}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post(issuerKey, "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", resp.StatusCode)
	}
	if resp := post("wrong", "same-origin"); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("wrong key: %d, cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	resp := post(issuerKey, "same-origin")
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(strings.ToLower(cookie), "samesite=strict") ||
		strings.Contains(cookie, issuerKey) {
		t.Errorf("sign-in: %d, cookie %q", resp.StatusCode, cookie)
	}
	req := httptest.NewRequest("GET", "/reports", nil)
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	page, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != 200 || !strings.Contains(string(body), "Signed in as merchant") ||
		!strings.HasPrefix(page.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("page: %d, CSP %q", page.StatusCode, page.Header.Get("Content-Security-Policy"))
	}
}
