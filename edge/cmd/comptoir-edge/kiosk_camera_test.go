package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// writeY4M writes a one-frame 640x480 Y4M video of a QR code of text in the
// middle of a grey scene, for Chromium's fake camera.
func writeY4M(t *testing.T, path, text string) {
	t.Helper()
	b, err := encodeQR(text, 300)
	if err != nil {
		t.Fatal(err)
	}
	qr, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 640, 480
	y := bytes.Repeat([]byte{160}, w*h)
	bounds := qr.Bounds()
	ox, oy := (w-bounds.Dx())/2, (h-bounds.Dy())/2
	for py := bounds.Min.Y; py < bounds.Max.Y; py++ {
		for px := bounds.Min.X; px < bounds.Max.X; px++ {
			r, _, _, _ := qr.At(px, py).RGBA()
			y[(oy+py-bounds.Min.Y)*w+ox+px-bounds.Min.X] = byte(r >> 8)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	chroma := bytes.Repeat([]byte{128}, w*h/4)
	for range 2 {
		bw.WriteString("FRAME\n")
		bw.Write(y)
		bw.Write(chroma)
		bw.Write(chroma)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestKioskCamera scans with the camera: refused to the page first, it
// says so; allowed, Chromium's fake camera plays a
// video of a parcel's QR code; the kiosk sends frames to /api/scan/image
// until the code is read, stops the camera, flashes and shows the answer.
func TestKioskCamera(t *testing.T) {
	_, dir := issuerTerminal(t, "term-kiosk-camera")
	m, _ := startTerminal(t, dir)
	tracking := s10(4242)
	video := filepath.Join(t.TempDir(), "qr.y4m")
	writeY4M(t, video, tracking)

	ctx := newBrowser(t,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(800, 480))

	signInKiosk(t, ctx, m.URL())
	do(t, ctx, "sign in", chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter), chromedp.WaitVisible(chromedp.ID("code")))
	// The camera refused to the page: a plain message.
	setCamera := func(s browser.PermissionSetting) {
		t.Helper()
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: "camera"}, Setting: s, Origin: m.URL(),
		}); err != nil {
			t.Fatalf("set camera permission: %v", err)
		}
	}
	setCamera(browser.PermissionSettingDenied)
	do(t, ctx, "camera denied",
		chromedp.Click(chromedp.ID("camera-start")),
		chromedp.Poll[chromedp.Void](`document.getElementById("camera-msg").textContent !== ""`),
	)
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("camera-msg"))); msg != "L'accès à la caméra est refusé : autorisez-le dans le navigateur, ou utilisez le scanner." {
		t.Errorf("camera permission refused: message %q", msg)
	}

	setCamera(browser.PermissionSettingGranted)

	do(t, ctx, "camera",
		chromedp.Evaluate[chromedp.Void](`window.flashed = false; new MutationObserver(() => { if (!document.getElementById("flash").hidden) window.flashed = true; }).observe(document.getElementById("flash"), {attributes: true})`),
		chromedp.Click(chromedp.ID("camera-start")),
		chromedp.WaitVisible(chromedp.CSS("#check p.ok")),
	)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({code: document.getElementById("code").value,
		verdict: document.getElementById("check").textContent, flashed: window.flashed,
		stopped: document.getElementById("camera-box").hidden, msg: document.getElementById("camera-msg").textContent})`))
	if err != nil {
		t.Fatal(err)
	}
	if got["code"] != tracking || got["flashed"] != true || got["stopped"] != true || got["msg"] != "" {
		t.Errorf("after the camera read the QR: %v; want code %s, a flash, the camera stopped, no message", got, tracking)
	}
}

// TestKioskNoCameraAndIdleLock: a Chromium with no camera gets a plain
// message; the pages are reached with the keyboard alone; then, on a terminal whose sessions last a second, the screen
// locks itself when left alone and the session is gone on the server too.
func TestKioskNoCameraAndIdleLock(t *testing.T) {
	_, dir := issuerTerminal(t, "term-kiosk-nocam")
	m, _ := startTerminal(t, dir)
	ctx := newBrowser(t)
	signInKiosk(t, ctx, m.URL())
	do(t, ctx, "no camera",
		chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.Click(chromedp.ID("camera-start")),
		chromedp.Poll[chromedp.Void](`document.getElementById("camera-msg").textContent !== ""`),
	)
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("camera-msg")))
	none := "Pas de caméra sur ce terminal : utilisez le scanner ou saisissez le code."
	denied := "L'accès à la caméra est refusé : autorisez-le dans le navigateur, ou utilisez le scanner."
	// A headless Chromium with no camera sometimes never answers
	// getUserMedia (once in a clean-clone CI run): the kiosk says so.
	slow := "La caméra ne répond pas : utilisez le scanner ou saisissez le code."
	if msg != none && msg != denied && msg != slow {
		t.Errorf("no camera: message %q", msg)
	}
	t.Logf("without a camera the kiosk says: %s", msg)
	// A camera that never answers: the kiosk says so after a few seconds.
	do(t, ctx, "camera not answering",
		chromedp.Evaluate[chromedp.Void](`navigator.mediaDevices.getUserMedia = () => new Promise(() => {})`),
		chromedp.Click(chromedp.ID("camera-start")),
		chromedp.Poll[chromedp.Void](`document.getElementById("camera-msg").textContent === `+strconv.Quote(slow)),
	)
	keyboardOnly(t, ctx)

	_, dir2 := issuerTerminal(t, "term-kiosk-idle")
	m2, _ := startTerminal(t, dir2, func(c *Config) { c.SessionIdle = Duration(time.Second) })
	signInKiosk(t, ctx, m2.URL())
	do(t, ctx, "idle lock",
		chromedp.SendKeys(chromedp.ID("pin"), "1234"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("pin")),
	)
	st, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/api/session").then((r) => r.status)`, chromedp.EvalAwaitPromise))
	desk, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("desk").hidden && document.getElementById("views").hidden`))
	if err != nil || st != http.StatusUnauthorized || !desk {
		t.Errorf("after the idle time: session status %d (%v), desk hidden %v; want 401 and the desk hidden", st, err, desk)
	}
}
