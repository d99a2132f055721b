package printer

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"sync"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// Preview returns a PNG of what data prints: a ZPL label (in the format
// FormatZPL) or an ESC/POS receipt or manifest (FormatESCPOS), one image
// pixel a printer dot. It reads the bytes, not the document they came
// from, so the kiosk shows what the printer was sent. It understands the
// commands this package writes, drawn with the Go fonts (scalable ZPL text
// in Go Bold, receipt text in Go Mono) and gozxing's barcode writers; it
// returns EINVALID for another format or bytes it cannot read.
func (r Renderer) Preview(format string, data []byte) ([]byte, error) {
	var img image.Image
	var err error
	switch format {
	case edge.FormatZPL:
		img, err = previewZPL(data)
	case edge.FormatESCPOS:
		cols, cerr := r.columns()
		if cerr != nil {
			return nil, cerr
		}
		img, err = previewESCPOS(data, cols)
	default:
		return nil, edge.Errorf(edge.EINVALID, "preview: unknown print format %q", format)
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, edge.Errorf(edge.EINTERNAL, "preview: %v", err)
	}
	return buf.Bytes(), nil
}

// Go fonts, parsed once.
var (
	fontsOnce                     sync.Once
	fontBold, fontMono, fontMonoB *opentype.Font
)

func loadFonts() {
	fontsOnce.Do(func() {
		fontBold, _ = opentype.Parse(gobold.TTF)
		fontMono, _ = opentype.Parse(gomono.TTF)
		fontMonoB, _ = opentype.Parse(gomonobold.TTF)
	})
}

// faceCache keeps font faces by font and pixel size; faces are not safe for
// concurrent use, so each preview has its own cache.
type faceCache map[faceKey]font.Face

type faceKey struct {
	f    *opentype.Font
	size int
}

func (c faceCache) face(f *opentype.Font, size int) font.Face {
	k := faceKey{f, size}
	if face, ok := c[k]; ok {
		return face
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("printer: Go font face: " + err.Error()) // the embedded fonts parse
	}
	c[k] = face
	return face
}

// drawText draws s with face, its top at y (the baseline is y + ascent).
// It returns the width drawn. dst may be nil to measure only.
func drawText(dst draw.Image, face font.Face, x, y int, s string) int {
	d := font.Drawer{Dst: dst, Src: image.Black, Face: face}
	w := d.MeasureString(s).Ceil()
	if dst == nil {
		return w
	}
	d.Dot = fixed.P(x, y+face.Metrics().Ascent.Ceil())
	d.DrawString(s)
	return w
}

// fillRect paints the rectangle black; dst may be nil.
func fillRect(dst draw.Image, r image.Rectangle) {
	switch g := dst.(type) {
	case nil:
	case *image.Gray:
		// Barcodes are thousands of small rectangles: write the pixels.
		r = r.Intersect(g.Rect)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := g.Pix[g.PixOffset(r.Min.X, y):g.PixOffset(r.Max.X, y)]
			clear(row)
		}
	default:
		draw.Draw(dst, r, image.Black, image.Point{}, draw.Src)
	}
}

// drawMatrix paints a barcode matrix with modules of mw x mh dots at x, y;
// dst may be nil.
func drawMatrix(dst draw.Image, m *gozxing.BitMatrix, x, y, mw, mh int) {
	if dst == nil {
		return
	}
	for j := 0; j < m.GetHeight(); j++ {
		for i := 0; i < m.GetWidth(); i++ {
			if m.Get(i, j) {
				fillRect(dst, image.Rect(x+i*mw, y+j*mh, x+(i+1)*mw, y+(j+1)*mh))
			}
		}
	}
}

// code128Matrix returns the one-row matrix of a Code 128 barcode of text,
// without quiet zones.
func code128Matrix(text string) (*gozxing.BitMatrix, error) {
	m, err := oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, 1, 1,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 0})
	if err != nil {
		return nil, edge.Errorf(edge.EINVALID, "preview: Code 128 of %q: %v", text, err)
	}
	return m, nil
}

// qrMatrix returns the modules of a QR code of text at error correction
// level ec, without quiet zone, in a mask that reads back
// (token.QRMatrix): the preview shows what a scanner reads.
func qrMatrix(text string, ec decoder.ErrorCorrectionLevel) (*gozxing.BitMatrix, error) {
	m, err := token.QRMatrix(text, ec)
	if err != nil {
		return nil, edge.Errorf(edge.EINVALID, "preview: QR code: %v", err)
	}
	return m, nil
}

// decodeConfig returns the size of a PNG that Preview made.
func decodeConfig(b []byte) image.Config {
	c, _ := png.DecodeConfig(bytes.NewReader(b))
	return c
}

// newPaper returns a white image of w x h dots.
func newPaper(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	return img
}
