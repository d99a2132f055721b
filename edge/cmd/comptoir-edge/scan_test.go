package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/comptoir/comptoir/scanner"
)

// TestScanJSON checks `scan --json`: one line per file, exactly the fields of
// DESIGN.md, error null when the file was read.
func TestScanJSON(t *testing.T) {
	dir := t.TempDir()
	bm, err := qrcode.NewQRCodeWriter().Encode("RR123456785FR", gozxing.BarcodeFormat_QR_CODE, 200, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(bm.Bounds())
	draw.Draw(g, g.Bounds(), bm, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		t.Fatal(err)
	}
	good, bad := filepath.Join(dir, "qr.png"), filepath.Join(dir, "bad.png")
	os.WriteFile(good, buf.Bytes(), 0o644)
	os.WriteFile(bad, []byte("not an image"), 0o644)

	// The flag may come after the files; a file without a code fails the
	// command, JSON or not.
	for _, args := range [][]string{{"scan", "--json", good, bad}, {"scan", good, bad, "--json"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil || !strings.Contains(err.Error(), "1 of 2 files had no readable code") {
			t.Fatalf("%q: %v, want 1 of 2 files unreadable", args, err)
		}
		checkScanJSON(t, out.String(), good, bad)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"scan", good, "--json"}, &out, &out); err != nil {
		t.Errorf("scan GOOD --json: %v", err)
	}

	out.Reset()
	err = run(context.Background(), []string{"scan", good, bad}, &out, &out)
	if err == nil {
		t.Error("plain scan with an unreadable file: no error")
	}
	if !strings.Contains(out.String(), good+": QR_CODE RR123456785FR\n") {
		t.Errorf("plain output:\n%s", out.String())
	}
}

// checkScanJSON checks the two lines of `scan --json good bad`.
func checkScanJSON(t *testing.T, out, good, bad string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{
		`{"file":"` + good + `","symbols":[{"format":"QR_CODE","text":"RR123456785FR"}],"error":null}`,
		`{"file":"` + bad + `","symbols":[],"error":"UNREADABLE: The image is not a readable JPEG or PNG file."}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\ngot  %s\nwant %s", i, lines[i], want[i])
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &v); err != nil || len(v) != 3 {
			t.Errorf("line %d: not an object of three fields: %v", i, err)
		}
	}
}

// TestScanRefusalMetric counts frames the decoder refuses, by code.
func TestScanRefusalMetric(t *testing.T) {
	x := newMetrics(nil)
	d := x.timeDecode(&scanner.Decoder{})
	d.Decode(context.Background(), []byte("not an image"))
	d.Decode(context.Background(), []byte("not an image either"))
	if got := testutil.ToFloat64(x.scanRef.WithLabelValues("UNREADABLE")); got != 2 {
		t.Errorf("comptoir_edge_scan_refusals_total{reason=UNREADABLE} = %v, want 2", got)
	}
	if got := testutil.CollectAndCount(x.decode); got != 1 {
		t.Errorf("decode histogram: %d series", got)
	}
}
