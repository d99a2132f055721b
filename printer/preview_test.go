package printer

import (
	"bytes"
	"encoding/base64"
	"flag"
	mathrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/edge"
)

var docsDir = flag.String("docs", "", "write the PNG renders of the README (label, receipt, manifest) to this directory")

// TestPreviewReadBack reads the barcodes of each preview back with gozxing
// and zbarimg: the label's Code 128 gives the tracking number and its QR
// the label's QR text, the receipt's QR the signed token, the manifest's
// Code 128 the manifest id.
func TestPreviewReadBack(t *testing.T) {
	label := fixedLabel()
	receipt := fixedReceipt()
	manifest := fixedManifest()
	uuidManifest := fixedManifest()
	uuidManifest.ManifestID = "0193a5b2-7c1e-7d3f-9a4b-2c5d6e7f8a9b"
	tests := []struct {
		name        string
		r           Renderer
		render      func(Renderer) ([]byte, error)
		format      string
		code128, qr string
		// thin: one-dot bars, which zbarimg does not read even off a
		// perfect image (gozxing does); hence the QR code beside them.
		thin bool
	}{
		{"label_203", Renderer{}, func(r Renderer) ([]byte, error) { return r.Label(label) }, edge.FormatZPL, label.Tracking, label.QR, false},
		{"label_300_100x150mm", Renderer{DPI: DPI300, LabelSize: Label100x150mm}, func(r Renderer) ([]byte, error) { return r.Label(label) }, edge.FormatZPL, label.Tracking, label.QR, false},
		{"receipt_80mm", Renderer{Location: paris}, func(r Renderer) ([]byte, error) { return r.Receipt(receipt) }, edge.FormatESCPOS, "", receipt.Token, false},
		{"receipt_58mm", Renderer{Paper: Paper58mm, Location: paris}, func(r Renderer) ([]byte, error) { return r.Receipt(receipt) }, edge.FormatESCPOS, "", receipt.Token, false},
		{"manifest_80mm", Renderer{Location: paris}, func(r Renderer) ([]byte, error) { return r.Manifest(manifest) }, edge.FormatESCPOS, manifest.ManifestID, "", false},
		// The Desk's manifest ids are UUIDs: one-dot bars and a QR code.
		{"manifest_uuid_80mm", Renderer{Location: paris}, func(r Renderer) ([]byte, error) { return r.Manifest(uuidManifest) }, edge.FormatESCPOS, uuidManifest.ManifestID, uuidManifest.ManifestID, true},
		{"manifest_uuid_58mm", Renderer{Paper: Paper58mm, Location: paris}, func(r Renderer) ([]byte, error) { return r.Manifest(uuidManifest) }, edge.FormatESCPOS, "", uuidManifest.ManifestID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.render(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			png, err := tt.r.Preview(tt.format, data)
			if err != nil {
				t.Fatal(err)
			}
			if *docsDir != "" {
				if err := os.WriteFile(filepath.Join(*docsDir, tt.name+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
				// The label's bytes too, for make docs-print to draw
				// with zpl-renderer-js beside our preview.
				if tt.format == edge.FormatZPL {
					if err := os.WriteFile(filepath.Join(*docsDir, tt.name+"-zpl-renderer-js.zpl"), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			c128, qr := readCodes(t, decodePNG(t, png))
			if c128 != tt.code128 {
				t.Errorf("gozxing read Code 128 %q, want %q", c128, tt.code128)
			}
			if qr != tt.qr {
				t.Errorf("gozxing read QR %q, want %q", qr, tt.qr)
			}
			if _, err := exec.LookPath("zbarimg"); err != nil && !testenv.Required() {
				t.Logf("zbarimg not found (Debian package zbar-tools): read with gozxing only")
				return
			}
			got := zbarCodes(t, writeTemp(t, tt.name+".png", png))
			var want []string
			if tt.code128 != "" && !tt.thin {
				want = append(want, "CODE-128:"+tt.code128)
			}
			if tt.qr != "" {
				want = append(want, "QR-Code:"+tt.qr)
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("zbarimg read %q, want %q among them", got, w)
				}
			}
		})
	}
}

func TestPreviewErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		format string
		data   []byte
	}{
		{"unknown format", "pdf", []byte("x")},
		{"unknown ESC/POS command", edge.FormatESCPOS, []byte{esc, '@', esc, 'p', 0, 25, 250}},
		{"control byte", edge.FormatESCPOS, []byte{esc, '@', 'a', 0x10, lf}},
		{"cut short", edge.FormatESCPOS, []byte{gs, '(', 'k', 9, 0, 49}},
		{"huge label", edge.FormatZPL, []byte("^XA^PW99999^LL10^XZ")},
		{"bad QR data", edge.FormatZPL, []byte("^XA^FO0,0^BQN,2,3^FDx^FS^XZ")},
		{"graphic rows not whole", edge.FormatZPL, []byte("^XA^FO0,0^GFA,10,10,3,FF^FS^XZ")},
		{"graphic short of its bytes", edge.FormatZPL, []byte("^XA^FO0,0^GFA,9,9,3,FFFFFF^FS^XZ")},
		{"graphic not hex", edge.FormatZPL, []byte("^XA^FO0,0^GFA,3,3,3,FF**FF^FS^XZ")},
	} {
		if _, err := (Renderer{}).Preview(tt.format, tt.data); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("%s: error %v, want EINVALID", tt.name, err)
		}
	}
}

// TestLabelPDF rasterises the label's PDF with Ghostscript and reads its
// barcodes back.
func TestLabelPDF(t *testing.T) {
	l := fixedLabel()
	zpl, err := Renderer{}.Label(l)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Renderer{}.LabelPDF(zpl)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 8)])
	}
	again, _ := Renderer{}.LabelPDF(zpl)
	if !bytes.Equal(pdf, again) {
		t.Errorf("the same label gave two different PDFs")
	}
	gs := testenv.Command(t, "gs", "ghostscript")
	in := writeTemp(t, "label.pdf", pdf)
	out := filepath.Join(filepath.Dir(in), "label.png")
	if b, err := exec.Command(gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray", "-r203", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("gs: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	// A4 at 203 dpi is 1654 x 2375 dots.
	if w := img.Bounds().Dx(); w < 1600 || w > 1700 {
		t.Errorf("page is %d dots wide at 203 dpi, want A4 (1654)", w)
	}
	c128, qr := readCodes(t, img)
	if c128 != l.Tracking || qr != l.QR {
		t.Errorf("read %q and %q from the PDF, want %q and %q", c128, qr, l.Tracking, l.QR)
	}
}

// TestReceiptQRReadsBack draws the receipts of tokens of a real receipt
// token's size and reads each QR code back with gozxing. Of the first 40
// tokens of a fixed seed, 3 (5, 31 and 37) do not read with the encoder's
// own mask (gozxing's detector takes some data for a finder pattern; about
// one in 30); the preview uses token.QRMatrix, which picks a mask that
// reads. Those three and three others are drawn (all 40 took 3 minutes
// under -race).
func TestReceiptQRReadsBack(t *testing.T) {
	r := Renderer{Location: paris}
	head, _, _ := strings.Cut(fixedToken, ".")
	rnd := mathrand.New(mathrand.NewPCG(18, 30))
	for i := range 40 {
		raw := make([]byte, len(fixedToken)*3/4-len(head)+i%4)
		for j := range raw {
			raw[j] = byte(rnd.Uint32())
		}
		if !slices.Contains([]int{0, 5, 10, 20, 31, 37}, i) {
			continue
		}
		rc := fixedReceipt()
		rc.Token = head + "." + base64.RawURLEncoding.EncodeToString(raw)
		data, err := r.Receipt(rc)
		if err != nil {
			t.Fatal(err)
		}
		png, err := r.Preview(edge.FormatESCPOS, data)
		if err != nil {
			t.Fatal(err)
		}
		if _, qr := readCodes(t, decodePNG(t, png)); qr != rc.Token {
			t.Errorf("receipt %d: QR reads %q, want its token of %d bytes", i, qr, len(rc.Token))
		}
	}
}
