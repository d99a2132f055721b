package token_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"image"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/scanner/token"
)

// TestQRPNGReadsBack renders texts of the size of RA tokens (QR versions 16
// and 17, where stock detectors fail on a few percent of codes) and reads
// each back with gozxing's detector and no hints. Without the mask retry of
// QRMatrix, about one in 30 does not.
func TestQRPNGReadsBack(t *testing.T) {
	for i := range 40 {
		raw := make([]byte, 340+i)
		rand.Read(raw)
		text := base64.RawURLEncoding.EncodeToString(raw)
		p, err := token.QRPNG(text)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil || res.GetText() != text {
			t.Fatalf("text %d (%d bytes) does not read back: %v", i, len(text), err)
		}
	}
}
