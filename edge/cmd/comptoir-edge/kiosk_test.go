package main

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/comptoir/comptoir/build/testenv"
)

// newBrowser starts a headless Chromium that reaches nothing but loopback,
// at 1280x800 unless extra options say otherwise, in French as the kiosk
// launcher starts it on a French terminal.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	// TestKioskScreens takes 40 s on two idle cores and over a minute
	// under -race: within the browser's guard of 5 minutes.
	return testenv.Browser(t, append([]chromedp.ExecAllocatorOption{chromedp.Flag("lang", "fr-FR"), chromedp.Flag("accept-lang", "fr-FR,fr")}, extra...)...)
}
