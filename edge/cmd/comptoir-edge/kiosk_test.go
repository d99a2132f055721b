package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/scanner/token"
)

// newBrowser starts a headless Chromium that reaches nothing but loopback.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// TestKioskDeposit runs the deposit flow of the first kiosk page in a real
// browser: sign in, a handheld scanner types the code and Enter without the
// field being tapped first, weigh, deposit, see the receipt.
func TestKioskDeposit(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-kiosk")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-kiosk", trust)
	m, _ := startTerminal(t, dir)
	tracking := s10(777)
	code := signRA(t, issuer, tracking, nil)

	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(m.URL()+"/"),
		chromedp.WaitVisible(chromedp.ID("pin")),
		chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.Click(chromedp.ID("desk-title")), // focus away from the field
		chromedp.KeyEvent(code+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("deposit-form")),
		chromedp.SendKeys(chromedp.ID("weight"), "1500"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("result")),
	)
	if err != nil {
		t.Fatalf("kiosk flow: %v", err)
	}
	lang, err1 := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	shown, err2 := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-tracking")))
	slot, err3 := chromedp.Run(ctx, chromedp.Text(chromedp.ID("r-slot")))
	qr, err4 := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("r-qr"), "src"))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	if lang.Value != "fr" || shown != tracking || slot != "001" || !strings.HasPrefix(qr.Value, "/api/receipts/") {
		t.Errorf("kiosk shows lang=%q tracking=%q slot=%q qr=%q; want fr, %s, 001, a receipt QR", lang.Value, shown, slot, qr.Value, tracking)
	}
}
