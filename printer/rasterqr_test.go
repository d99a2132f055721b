package printer

import (
	"bytes"
	"encoding/base64"
	"image/png"
	mathrand "math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// zxingTexts returns the texts of the QR codes ZXingReader (zxing-cpp)
// reads in the image file path (QR codes only: ZXingReader 1.4.0 aborts on
// an assertion on some Code 128 images, the labels' among them). It skips
// when ZXingReader is absent (Debian package zxing-cpp-tools).
func zxingTexts(t testing.TB, path string) []string {
	t.Helper()
	reader := testenv.Command(t, "ZXingReader", "zxing-cpp-tools")
	out, err := exec.Command(reader, "-format", "QRCode", path).Output()
	if err != nil {
		t.Fatalf("ZXingReader %s: %v\n%s", path, err, out)
	}
	var texts []string
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Text:"); ok {
			s, err := strconv.Unquote(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("ZXingReader printed %q: %v", l, err)
			}
			texts = append(texts, s)
		}
	}
	return texts
}

// missTokens returns receipt tokens whose QR code, with the mask the
// encoder picks by the standard's penalty rules, gozxing does not read
// (tokens 5, 31 and 37 of TestReceiptQRReadsBack's seed); the printer's own
// QR function picks its mask by the same rules.
func missTokens() []string {
	head, _, _ := strings.Cut(fixedToken, ".")
	rnd := mathrand.New(mathrand.NewPCG(18, 30))
	var out []string
	for i := range 38 {
		raw := make([]byte, len(fixedToken)*3/4-len(head)+i%4)
		for j := range raw {
			raw[j] = byte(rnd.Uint32())
		}
		if slices.Contains([]int{5, 31, 37}, i) {
			out = append(out, head+"."+base64.RawURLEncoding.EncodeToString(raw))
		}
	}
	return out
}

// TestReceiptQRReadElsewhere reads the receipt's QR code off the printer's
// bytes with readers we did not write: the GS v 0 image, unpacked by the
// tests' own ESC/POS reader (not the preview), goes to gozxing, zbarimg
// and ZXingReader, and each must read the token, for the fixed receipt and the
// three tokens the printer's own mask choice made unreadable, on both
// papers.
func TestReceiptQRReadElsewhere(t *testing.T) {
	tokens := append([]string{fixedReceipt().Token}, missTokens()...)
	for _, paper := range []string{Paper80mm, Paper58mm} {
		for i, tok := range tokens {
			t.Run(paper+"/"+strconv.Itoa(i), func(t *testing.T) {
				d := fixedReceipt()
				d.Token = tok
				b, err := Renderer{Paper: paper, Location: paris}.Receipt(d)
				if err != nil {
					t.Fatal(err)
				}
				doc := parseESCPOS(t, b)
				if len(doc.rasters) != 1 || doc.count("GS ( k") != 0 {
					t.Fatalf("%d raster images and %d GS ( k, want one image and no printer QR function", len(doc.rasters), doc.count("GS ( k"))
				}
				if qr := doc.qrTexts(t); !slices.Equal(qr, []string{tok}) {
					t.Errorf("gozxing read %q off the image, want the token", qr)
				}
				var buf bytes.Buffer
				if err := png.Encode(&buf, doc.rasters[0]); err != nil {
					t.Fatal(err)
				}
				path := writeTemp(t, "receipt-qr.png", buf.Bytes())
				if got := zbarCodes(t, path); !slices.Equal(got, []string{"QR-Code:" + tok}) {
					t.Errorf("zbarimg read %q, want the token", got)
				}
				if got := zxingTexts(t, path); !slices.Equal(got, []string{tok}) {
					t.Errorf("ZXingReader read %q, want the token", got)
				}
			})
		}
	}
}
