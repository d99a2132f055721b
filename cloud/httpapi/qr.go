package httpapi

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// QR rendering: error correction M (the level phones show reliably), 8
// pixels a module, and the 4-module quiet zone of the standard.
const (
	qrModulePx  = 8
	qrQuietZone = 4
)

// QRPNG returns a PNG of the QR code of text.
//
// Stock zxing-family detectors (gozxing among them) fail on a few percent of
// perfectly printed codes of versions 16 and 17, where the data happens to
// look like a finder pattern. So the code is read back with gozxing's usual
// detector, and when it cannot be, the other mask patterns are tried: the
// mask changes the data's look, not its content.
func QRPNG(text string) ([]byte, error) {
	var first *image.Gray
	for mask := -1; mask < 8; mask++ {
		img, err := qrImage(text, mask)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = img
		}
		if readsBack(img, text) {
			return encodePNG(img)
		}
	}
	return encodePNG(first)
}

// qrImage renders text with the given mask pattern (-1: the encoder's
// choice).
func qrImage(text string, mask int) (*image.Gray, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: decoder.ErrorCorrectionLevel_M,
		gozxing.EncodeHintType_MARGIN:           qrQuietZone,
	}
	if mask >= 0 {
		hints[gozxing.EncodeHintType_QR_MASK_PATTERN] = mask
	}
	// Asking for size 0 gives one pixel a module, quiet zone included.
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewGray(image.Rect(0, 0, w*qrModulePx, h*qrModulePx))
	for y := 0; y < h*qrModulePx; y++ {
		for x := 0; x < w*qrModulePx; x++ {
			c := color.Gray{Y: 255}
			if m.Get(x/qrModulePx, y/qrModulePx) {
				c.Y = 0
			}
			img.SetGray(x, y, c)
		}
	}
	return img, nil
}

// readsBack reports whether gozxing's detector, without hints, reads text
// from img.
func readsBack(img image.Image, text string) bool {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return false
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	return err == nil && res.GetText() == text
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return buf.Bytes(), nil
}
