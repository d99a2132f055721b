package scanner

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // camera frames
	_ "image/png"  // screenshots, test images
	"log/slog"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/edge"
)

// Default limits of a Decoder. A 40-megapixel image is larger than any
// camera of a counter takes; its grey buffer alone is 40 MB.
const (
	DefaultMaxPixels = 40_000_000
	DefaultMaxBytes  = 16 << 20
)

// Decoder finds QR codes and Code 128 barcodes in JPEG and PNG images. The
// zero value is ready to use with the default limits; a Decoder is safe for
// concurrent use.
type Decoder struct {
	// MaxPixels refuses images of more pixels before they are decoded;
	// DefaultMaxPixels when 0.
	MaxPixels int
	// MaxBytes refuses larger inputs; DefaultMaxBytes when 0.
	MaxBytes int
}

// Decode returns the symbols found in the JPEG or PNG image data. It returns
// an *edge.Error with code TOO_LARGE when data or the image's dimensions are
// above the limits (checked from the header, before decoding), and with code
// UNREADABLE when data is not a valid image or holds no symbol it can read;
// the symbols are then an empty slice.
func (d *Decoder) Decode(ctx context.Context, data []byte) ([]edge.Symbol, error) {
	maxBytes, maxPixels := d.MaxBytes, d.MaxPixels
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) > maxBytes {
		return []edge.Symbol{}, edge.Errorf(edge.ETOOLARGE, "The image is %d bytes; at most %d are accepted.", len(data), maxBytes)
	}

	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "The image is not a readable JPEG or PNG file.")
	} else if format != "jpeg" && format != "png" {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "Only JPEG and PNG images are read, not %s.", format)
	} else if cfg.Width <= 0 || cfg.Height <= 0 {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "The image is empty.")
	} else if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return []edge.Symbol{}, edge.Errorf(edge.ETOOLARGE, "The image is %dx%d pixels; at most %d pixels are accepted.", cfg.Width, cfg.Height, maxPixels)
	}

	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "The image is corrupt or truncated.")
	}
	if err := ctx.Err(); err != nil {
		return []edge.Symbol{}, fmt.Errorf("decode: %w", err)
	}
	return DecodeImage(ctx, img)
}

// DecodeImage returns the symbols found in an already decoded image, with the
// same errors as Decoder.Decode except the limits, which it does not check.
func DecodeImage(ctx context.Context, img image.Image) ([]edge.Symbol, error) {
	syms, err := decodeGrey(ctx, newGrey(img, lumaEven))
	if err == nil && len(syms) == 0 && isColour(img) {
		syms, err = decodeGrey(ctx, newGrey(img, lumaJava))
	}
	if err != nil {
		return []edge.Symbol{}, err
	}
	if len(syms) == 0 {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "No QR code or barcode was found in the image.")
	}
	return syms, nil
}

// decodeGrey looks for symbols in src: at first sight, then harder (every
// row, the barcode turned by 90 degrees), then for a light QR code on a dark
// screen, then for a QR code with one threshold for the whole image, which
// reads some blurred or unevenly lit photos that the local thresholds miss.
// The last two passes look for QR codes only: the Code 128 reader reads rows
// with a global threshold in every pass, and light-on-dark barcodes are not
// printed.
func decodeGrey(ctx context.Context, src *grey) ([]edge.Symbol, error) {
	hard := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	passes := []struct {
		src       gozxing.LuminanceSource
		hints     map[gozxing.DecodeHintType]any
		binarizer func(gozxing.LuminanceSource) gozxing.Binarizer
		code128   bool
	}{
		{src, nil, gozxing.NewHybridBinarizer, true},
		{src, hard, gozxing.NewHybridBinarizer, true},
		{src.Invert(), hard, gozxing.NewHybridBinarizer, false},
		{src, hard, gozxing.NewGlobalHistgramBinarizer, false},
	}
	for _, p := range passes {
		readers := []gozxing.Reader{qrcode.NewQRCodeReader()}
		if p.code128 {
			readers = append(readers, oned.NewCode128Reader())
		}
		syms, err := scan(ctx, p.src, p.hints, p.binarizer, readers)
		if err != nil || len(syms) > 0 {
			return syms, err
		}
	}
	return nil, nil
}

// scan runs each reader over src once.
func scan(ctx context.Context, src gozxing.LuminanceSource, hints map[gozxing.DecodeHintType]any, binarizer func(gozxing.LuminanceSource) gozxing.Binarizer, readers []gozxing.Reader) ([]edge.Symbol, error) {
	var syms []edge.Symbol
	for _, r := range readers {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		// Each reader gets its own bitmap: the binarizer caches its
		// matrix, and the 1D reader asks it for rows, not the matrix.
		bmp, err := gozxing.NewBinaryBitmap(binarizer(src))
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		res := decodeSafely(r, bmp, hints)
		if res == nil {
			continue
		}
		syms = append(syms, edge.Symbol{Format: res.GetBarcodeFormat().String(), Text: text(res)})
	}
	return syms, nil
}

// decodeSafely runs r over bmp and returns its result, or nil when r finds
// nothing readable. Any error of a reader (not found, bad checksum, malformed
// data) means "no symbol here". A panic inside the decoding library, on some
// hostile image, is also taken as "no symbol": it must not bring the terminal
// down.
func decodeSafely(r gozxing.Reader, bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) (res *gozxing.Result) {
	defer func() {
		if p := recover(); p != nil {
			slog.Warn("barcode reader panicked", "component", "scanner", "panic", fmt.Sprint(p))
			res = nil
		}
	}()
	res, err := r.Decode(bmp, hints)
	if err != nil {
		return nil
	}
	return res
}

// text returns the text of res as valid UTF-8. gozxing's Code 128 reader
// gives FNC4 extended characters as raw ISO-8859-1 bytes; those are mapped
// to their runes.
func text(res *gozxing.Result) string {
	s := res.GetText()
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, 0, len(s))
	for i := 0; i < len(s); i++ {
		r = append(r, rune(s[i]))
	}
	return string(r)
}
