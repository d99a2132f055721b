package main

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/comptoir/comptoir/build/testenv/browser"
)

// newBrowser starts a headless Chromium that reaches nothing but loopback,
// at 1280x800 unless extra options say otherwise, in French as the kiosk
// launcher starts it on a French terminal (browser.New).
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return browser.New(t, extra...)
}
