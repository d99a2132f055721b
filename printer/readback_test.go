package printer

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/build/testenv"
)

// This file reads barcodes back from rendered PNGs, with gozxing and with
// zbar's zbarimg, for the tests of the ZPL (rendered by zpl-renderer-js) and
// of the previews.

// readCodes returns what gozxing reads in img: the Code 128 and the QR code
// ("" when it finds none).
func readCodes(t testing.TB, img image.Image) (code128, qr string) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	if r, err := oned.NewCode128Reader().Decode(bmp, hints); err == nil {
		code128 = r.GetText()
	}
	if r, err := qrcode.NewQRCodeReader().Decode(bmp, hints); err == nil {
		qr = r.GetText()
	}
	return code128, qr
}

// zbarCodes returns what zbarimg reads in the PNG file path, as lines such
// as "CODE-128:XY123456789FR" and "QR-Code:...", sorted as zbar prints them.
// It skips when zbarimg is absent (Debian package zbar-tools).
func zbarCodes(t testing.TB, path string) []string {
	t.Helper()
	zbarimg := testenv.Command(t, "zbarimg", "zbar-tools")
	out, err := exec.Command(zbarimg, "-q", path).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v", path, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func decodePNG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	return img
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
