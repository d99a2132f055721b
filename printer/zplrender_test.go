package printer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/edge"
)

// renderZPL renders each ZPL document with zpl-renderer-js (zebrash in
// WebAssembly, run by Node from build/zpl) for a label of wmm x hmm at dpmm
// dots per millimetre. It returns, for each, the path of its PNG and how
// many labels the renderer found. It skips when Node or the npm package is
// absent.
func renderZPL(t *testing.T, wmm, hmm float64, dpmm int, docs ...[]byte) (pngs []string, labels []int) {
	t.Helper()
	node := testenv.Command(t, "node", "nodejs")
	dir := filepath.Join(testenv.RepoRoot(), "build", "zpl")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "zpl-renderer-js", "package.json")); err != nil {
		testenv.Skip(t, "zpl-renderer-js is not installed (run npm ci --prefix build/zpl)")
	}
	tmp := t.TempDir()
	args := []string{filepath.Join(dir, "render.js"), fmt.Sprint(wmm), fmt.Sprint(hmm), fmt.Sprint(dpmm)}
	for i, d := range docs {
		f := filepath.Join(tmp, fmt.Sprintf("label%d.zpl", i))
		if err := os.WriteFile(f, d, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
		pngs = append(pngs, strings.TrimSuffix(f, ".zpl")+".png")
	}
	out, err := exec.Command(node, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("render.js: %v\n%s", err, out)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var n int
		if _, err := fmt.Sscanf(line, args[4+i]+" labels=%d", &n); err != nil {
			t.Fatalf("render.js said %q: %v", line, err)
		}
		labels = append(labels, n)
	}
	return pngs, labels
}

// TestLabelRenderedElsewhere renders labels with a ZPL renderer we did not
// write and reads their barcodes back with gozxing and zbarimg (and the QR
// code with ZXingReader): the Code 128 must give the tracking number and
// the QR code (a ^GF graphic of our encoder's code) the label's QR text, at
// both resolutions and both label sizes, with text that needs ^FH escapes,
// and with names that try to inject ZPL commands (one label, not two).
func TestLabelRenderedElsewhere(t *testing.T) {
	plain := fixedLabel()
	escaped := fixedLabel()
	escaped.Tracking = "XY_12~3^45<6{}"
	escaped.QR = "https://suivi.example/XY_12~3^45?a=1&b=_7E"
	injected := fixedLabel()
	injected.Carrier = "^XZ^XA^FO0,0^GB812,1218,812^FS"
	injected.Origin.Name = "~JA~JR"
	injected.Dest.Name = "_5EXZ^FS^XZ^XA^FDevil"
	injected.QR = "QA,^XZ~JA"
	labels := []edge.Label{plain, escaped, injected}

	for _, tt := range []struct {
		size     string
		dpi      int
		wmm, hmm float64
		dpmm     int
	}{
		{Label4x6in, DPI203, 101.6, 152.4, 8},
		{Label4x6in, DPI300, 101.6, 152.4, 12},
		{Label100x150mm, DPI203, 100, 150, 8},
		{Label100x150mm, DPI300, 100, 150, 12},
	} {
		t.Run(fmt.Sprintf("%s/%d", tt.size, tt.dpi), func(t *testing.T) {
			t.Parallel()
			r := Renderer{DPI: tt.dpi, LabelSize: tt.size}
			var docs [][]byte
			for _, l := range labels {
				b, err := r.Label(l)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, b)
			}
			pngs, counts := renderZPL(t, tt.wmm, tt.hmm, tt.dpmm, docs...)
			for i, l := range labels {
				if counts[i] != 1 {
					t.Errorf("label %d: the renderer found %d labels, want 1", i, counts[i])
				}
				b, err := os.ReadFile(pngs[i])
				if err != nil {
					t.Fatal(err)
				}
				img := decodePNG(t, b)
				if got := img.Bounds().Dx(); got < int(tt.wmm*float64(tt.dpmm))-2 {
					t.Errorf("label %d: PNG %d dots wide", i, got)
				}
				c128, qr := readCodes(t, img)
				if c128 != l.Tracking {
					t.Errorf("label %d: gozxing read Code 128 %q, want %q", i, c128, l.Tracking)
				}
				if qr != l.QR {
					t.Errorf("label %d: gozxing read QR %q, want %q", i, qr, l.QR)
				}
				got := zbarCodes(t, pngs[i])
				want := []string{"CODE-128:" + l.Tracking, "QR-Code:" + l.QR}
				for _, w := range want {
					if !slices.Contains(got, w) {
						t.Errorf("label %d: zbarimg read %q, want %q among them", i, got, w)
					}
				}
				if got := zxingTexts(t, pngs[i]); !slices.Contains(got, l.QR) {
					t.Errorf("label %d: ZXingReader read %q, want %q among them", i, got, l.QR)
				}
				if bytes.Contains(docs[i], []byte("^BQ")) {
					t.Errorf("label %d: a ^BQ QR code, whose mask the printer picks", i)
				}
			}
		})
	}
}
