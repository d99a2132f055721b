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
func QRPNG(text string) ([]byte, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: decoder.ErrorCorrectionLevel_M,
		gozxing.EncodeHintType_MARGIN:           qrQuietZone,
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
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return buf.Bytes(), nil
}
