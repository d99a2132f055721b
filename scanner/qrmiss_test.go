package scanner_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/scanner"
)

// TestQRMaskMisses reads the QR codes of testdata/qr-misses: receipt tokens
// drawn with the mask gozxing's encoder chose, perfectly printed, which
// gozxing's detector (and so our cascade) does not read and zbar does (it
// takes some of their data for a finder pattern). The printers and the
// cloud now choose another mask when theirs does not read back
// (token.QRMatrix), but a phone or another issuer may show these. zbar
// reading them proves they are sound; until the cascade reads them, the
// test skips naming them, so that the summary of make test shows it.
func TestQRMaskMisses(t *testing.T) {
	files, _ := filepath.Glob("testdata/qr-misses/*.png")
	if len(files) == 0 {
		t.Fatal("no testdata/qr-misses/*.png")
	}
	var missed []string
	for _, f := range files {
		want, err := os.ReadFile(strings.TrimSuffix(f, ".png") + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		if zbar := zbarRead(t, f); zbar != "" && zbar != string(want) {
			t.Errorf("%s: zbar reads %.20q..., not the expected text", f, zbar)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		syms, _ := scanner.DecodeImage(context.Background(), img)
		if len(syms) != 1 || syms[0].Text != string(want) {
			missed = append(missed, filepath.Base(f))
		}
	}
	if len(missed) > 0 {
		t.Skipf("known misses of the cascade (gozxing's QR detector; zbar reads them): %s", strings.Join(missed, ", "))
	}
}

// zbarRead returns what zbarimg reads in the file, or "" without zbarimg.
func zbarRead(t *testing.T, path string) string {
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("zbarimg not found (Debian package zbar-tools)")
		}
		return ""
	}
	out, err := exec.Command(zbarimg, "-q", "--raw", path).Output()
	if err != nil {
		t.Errorf("zbarimg %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}
