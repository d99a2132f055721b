package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// paperOutPrinter is a network label printer on loopback that answers every
// ~HS with "paper out" and records any other bytes it is sent.
type paperOutPrinter struct {
	ln   net.Listener
	mu   sync.Mutex
	sent int
}

func startPaperOutPrinter(t *testing.T) *paperOutPrinter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &paperOutPrinter{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				n, _ := io.ReadAtLeast(c, buf, 3)
				if string(buf[:n]) == "~HS" {
					c.Write([]byte("\x02030,1,0,1218,000,0,0,0,000,0,0,0\x03\r\n\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n"))
					return
				}
				p.mu.Lock()
				p.sent++
				p.mu.Unlock()
			}()
		}
	}()
	return p
}

// TestPrintPreviewsAndStatus: a deposit's label and receipt are drawn on
// request from the journalled bytes (the barcodes read back), the label
// has an A4 PDF, and a label printer out of paper shows in /api/status and
// in comptoir_edge_printer_up while the deposit itself succeeded.
func TestPrintPreviewsAndStatus(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-test")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-print", trust)
	fake := startPaperOutPrinter(t)
	_, c := startTerminal(t, dir, func(cfg *Config) {
		cfg.Printers = map[string]string{edge.PrinterLabel: "tcp://" + fake.ln.Addr().String() + "?status=zpl"}
	})

	tracking := s10(42)
	var dep struct {
		Receipt struct {
			Token      string `json:"token"`
			PreviewURL string `json:"preview_url"`
		} `json:"receipt"`
		Label struct {
			JobID  string `json:"job_id"`
			PNGURL string `json:"png_url"`
			PDFURL string `json:"pdf_url"`
		} `json:"label"`
	}
	if code := c.do("POST", "/api/deposits", map[string]any{"code": signRA(t, issuer, tracking, nil), "weight_g": 900}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit: status %d", code)
	}

	var img []byte
	if code := c.do("GET", dep.Label.PNGURL, nil, &img); code != http.StatusOK {
		t.Fatalf("label preview: status %d", code)
	}
	if got := readBarcode(t, img, oned.NewCode128Reader()); got != tracking {
		t.Errorf("label preview Code 128 %q, want %q", got, tracking)
	}
	if code := c.do("GET", dep.Receipt.PreviewURL, nil, &img); code != http.StatusOK {
		t.Fatalf("receipt preview: status %d", code)
	}
	if got := readBarcode(t, img, qrcode.NewQRCodeReader()); got != dep.Receipt.Token {
		t.Errorf("receipt preview QR %q, want the receipt token", got)
	}
	var pdf []byte
	if code := c.do("GET", dep.Label.PDFURL, nil, &pdf); code != http.StatusOK || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("label PDF: status %d, starts %q", code, pdf[:min(8, len(pdf))])
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct {
			PrinterStates []edge.PrinterStatus `json:"printer_states"`
			PrintJobs     []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"print_jobs"`
		}
		c.do("GET", "/api/status", nil, &st)
		var label edge.PrinterStatus
		for _, p := range st.PrinterStates {
			if p.Printer == edge.PrinterLabel {
				label = p
			}
		}
		// The receipt may still be spooling when paper-out first shows:
		// wait for the steady state (label down, its job alone pending).
		if label.Reason == edge.PrinterPaperOut && !label.Up && label.Pending == 1 &&
			len(st.PrintJobs) == 1 && st.PrintJobs[0].ID == dep.Label.JobID {
			break
		}
		if time.Now().After(deadline) {
			raw, _ := json.Marshal(st)
			t.Fatalf("never reached: label printer down for paper out with its job alone pending: %s", raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var metrics []byte
	c.do("GET", "/metrics", nil, &metrics)
	if !strings.Contains(string(metrics), `comptoir_edge_printer_up{printer="label"} 0`) {
		t.Errorf("metrics do not show the label printer down")
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.sent != 0 {
		t.Errorf("a printer out of paper was sent %d jobs", fake.sent)
	}
}

func readBarcode(t *testing.T, b []byte, r gozxing.Reader) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := r.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("%T reads nothing in the preview: %v", r, err)
	}
	return res.GetText()
}

// TestPrintingConfig: the printing settings are read from the config file
// and checked at start, so that a terminal with a resolution its renderer
// does not support refuses to start instead of failing its deposits.
func TestPrintingConfig(t *testing.T) {
	for _, tt := range []struct {
		json string
		ok   bool
	}{
		{`{"printing":{"label_dpi":300,"label_size":"100x150mm","receipt_paper":"58mm"}}`, true},
		{`{"printing":{}}`, true},
		{`{"printing":{"label_dpi":600}}`, false},
		{`{"printing":{"label_size":"A6"}}`, false},
		{`{"printing":{"receipt_paper":"110mm"}}`, false},
	} {
		path := filepath.Join(t.TempDir(), "edge.json")
		if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		if err := cfg.ReadConfigFile(path); err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		err := cfg.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.json, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "printing") {
			t.Errorf("%s: error %q does not name the printing settings", tt.json, err)
		}
	}
}
