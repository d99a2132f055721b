package token

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// The QR code of a token: one encoder for the cloud's return codes, the
// kiosk's receipt, the printers' previews and the demo, so that each of
// them reads back.

// QR rendering of QRPNG: error correction M (the level phones show
// reliably), 8 pixels a module, and the 4-module quiet zone of the standard.
const (
	qrModulePx  = 8
	qrQuietZone = 4
)

// QRMatrix returns the modules of the QR code of text at error correction
// level ec, without quiet zone.
//
// Stock zxing-family detectors (gozxing among them) fail on a few percent of
// perfectly printed codes of versions 16 and 17, where the data happens to
// look like a finder pattern. So the code is read back with gozxing's usual
// detector, and when it cannot be, the other mask patterns are tried: the
// mask changes the data's look, not its content. When no mask reads back,
// the encoder's own choice is returned.
func QRMatrix(text string, ec decoder.ErrorCorrectionLevel) (*gozxing.BitMatrix, error) {
	var first *gozxing.BitMatrix
	for mask := -1; mask < 8; mask++ {
		m, err := qrMatrix(text, ec, mask)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = m
		}
		if readsBack(m, text) {
			return m, nil
		}
	}
	return first, nil
}

// QRImage draws m with px pixels a module and a quiet zone of quiet
// modules all round.
func QRImage(m *gozxing.BitMatrix, px, quiet int) *image.Gray {
	w, h := m.GetWidth()+2*quiet, m.GetHeight()+2*quiet
	img := image.NewGray(image.Rect(0, 0, w*px, h*px))
	for y := range h * px {
		for x := range w * px {
			c := color.Gray{Y: 255}
			if mx, my := x/px-quiet, y/px-quiet; mx >= 0 && my >= 0 && mx < m.GetWidth() && my < m.GetHeight() && m.Get(mx, my) {
				c.Y = 0
			}
			img.SetGray(x, y, c)
		}
	}
	return img
}

// QRPNG returns a PNG of the QR code of text: error correction M, 8 pixels
// a module, a 4-module quiet zone, and a mask that reads back (QRMatrix).
func QRPNG(text string) ([]byte, error) {
	m, err := QRMatrix(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, QRImage(m, qrModulePx, qrQuietZone)); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return buf.Bytes(), nil
}

// qrMatrix encodes text with the given mask pattern (-1: the encoder's
// choice).
func qrMatrix(text string, ec decoder.ErrorCorrectionLevel, mask int) (*gozxing.BitMatrix, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: ec,
		gozxing.EncodeHintType_MARGIN:           0,
	}
	if mask >= 0 {
		hints[gozxing.EncodeHintType_QR_MASK_PATTERN] = mask
	}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 1, 1, hints)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return m, nil
}

// readsBack reports whether gozxing's QR detector and decoder, with and
// without TRY_HARDER, read text from m drawn at 4, 6 and 8 pixels a module
// (receipts print 4 to 6 dots a module, QRPNG draws 8) with its quiet
// zone: the detector's misses depend on the size, and one size is not
// enough (TestReceiptQRReadsBack of the printer fails with 4 or 6 alone).
//
// It runs what qrcode.QRCodeReader.Decode runs on an image once binarised
// (detector, then decoder), on the drawn bits themselves: a drawn code is
// black and white, so the binariser would give those very bits, and
// skipping the image and the binariser makes the six reads about ten
// times cheaper, which matters since a deposit renders its receipt. When
// the detector samples exactly the encoder's modules, decoding them can
// only give text back, so the decoder (Reed-Solomon, most of what is
// left) runs only when it samples something else.
func readsBack(m *gozxing.BitMatrix, text string) bool {
	for _, px := range []int{4, 6, 8} {
		bits := scaled(m, px, qrQuietZone)
		for _, hints := range []map[gozxing.DecodeHintType]any{nil, {gozxing.DecodeHintType_TRY_HARDER: true}} {
			det, err := detector.NewDetector(bits).Detect(hints)
			if err != nil {
				return false
			}
			if sameBits(det.GetBits(), m) {
				continue // the encoder's own modules, whose text is text
			}
			res, err := decoder.NewDecoder().Decode(det.GetBits(), hints)
			if err != nil || res.GetText() != text {
				return false
			}
		}
	}
	return true
}

// scaled returns m with px bits a module and a quiet zone of quiet
// modules all round.
func scaled(m *gozxing.BitMatrix, px, quiet int) *gozxing.BitMatrix {
	w, h := (m.GetWidth()+2*quiet)*px, (m.GetHeight()+2*quiet)*px
	out, _ := gozxing.NewBitMatrix(w, h)
	for my := range m.GetHeight() {
		for mx := range m.GetWidth() {
			if m.Get(mx, my) {
				out.SetRegion((mx+quiet)*px, (my+quiet)*px, px, px)
			}
		}
	}
	return out
}

// sameBits reports whether a and b are the same matrix.
func sameBits(a, b *gozxing.BitMatrix) bool {
	if a.GetWidth() != b.GetWidth() || a.GetHeight() != b.GetHeight() {
		return false
	}
	for y := range a.GetHeight() {
		for x := range a.GetWidth() {
			if a.Get(x, y) != b.Get(x, y) {
				return false
			}
		}
	}
	return true
}
