package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"

	"github.com/comptoir/comptoir/scanner/token"
)

// demoReturnCmd creates a return through the cloud API as a merchant would,
// saves its QR as a PNG and draws it in the terminal, for the README's tour.
func demoReturnCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo-return", flag.ContinueOnError)
	cloud := fs.String("cloud", "http://127.0.0.1:8080", "cloud base URL")
	dir := fs.String("data", "data/cloud", "the cloud's data dir, to read the issuer key from demo.json")
	key := fs.String("issuer-key", os.Getenv("COMPTOIR_ISSUER_KEY"), "issuer API key (default: from DIR/demo.json)")
	out := fs.String("out", "", "PNG path (default: DIR/demo-returns/TRACKING.png)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		raw, err := os.ReadFile(filepath.Join(*dir, "demo.json"))
		if err != nil {
			return fmt.Errorf("demo-return: no --issuer-key and no demo.json: %w", err)
		}
		var demo struct {
			IssuerKey string `json:"issuer_key"`
		}
		if err := json.Unmarshal(raw, &demo); err != nil {
			return fmt.Errorf("demo-return: %s: %w", filepath.Join(*dir, "demo.json"), err)
		}
		*key = demo.IssuerKey
	}
	base := strings.TrimRight(*cloud, "/")
	body := `{"items":[{"sku":"PULL-M-BLEU","name":"Pull laine","qty":1,"reason":"WRONG_SIZE"}],"max_g":3000}`
	var ra struct {
		RAID     string `json:"ra_id"`
		Tracking string `json:"tracking"`
		Token    string `json:"token"`
		QRURL    string `json:"qr_png_url"`
	}
	if err := call(http.MethodPost, base+"/v1/returns", *key, strings.NewReader(body), &ra); err != nil {
		return fmt.Errorf("demo-return: %w", err)
	}
	qrURL := ra.QRURL
	if !strings.HasPrefix(qrURL, "http") {
		qrURL = base + qrURL
	}
	var png []byte
	if err := call(http.MethodGet, qrURL, *key, nil, &png); err != nil {
		return fmt.Errorf("demo-return: QR: %w", err)
	}
	if *out == "" {
		*out = filepath.Join(*dir, "demo-returns", ra.Tracking+".png")
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return fmt.Errorf("demo-return: %w", err)
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		return fmt.Errorf("demo-return: %w", err)
	}
	art, err := qrArt(ra.Token)
	if err != nil {
		return fmt.Errorf("demo-return: %w", err)
	}
	fmt.Fprintf(stdout, "%s\nreturn %s\ntracking %s\nQR PNG  %s\ntoken   %s\ntimeline %s/track/%s\n",
		art, ra.RAID, ra.Tracking, *out, ra.Token, base, ra.Tracking)
	return nil
}

func call(method, url, key string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(raw))
	}
	if p, ok := out.(*[]byte); ok {
		*p = raw
		return nil
	}
	return json.Unmarshal(raw, out)
}

// qrArt draws text as a QR code with Unicode half blocks, two modules rows
// per line, light modules in the foreground colour (right for the usual dark
// terminal; phone readers also read the inverse).
func qrArt(text string) (string, error) {
	m, err := token.QRMatrix(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		return "", err
	}
	const quiet = 2
	w, h := m.GetWidth()+2*quiet, m.GetHeight()+2*quiet
	light := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x < 0 || y < 0 || x >= m.GetWidth() || y >= m.GetHeight() || !m.Get(x, y)
	}
	var b strings.Builder
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x++ {
			switch top, bottom := light(x, y), light(x, y+1); {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
