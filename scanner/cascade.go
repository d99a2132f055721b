package scanner

import (
	"context"
	"fmt"
	"image"
	"log/slog"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/edge"
)

// DecodeImage returns the symbols found in an already decoded image, with the
// same errors as Decoder.Decode except the limits, which it does not check.
// The symbols are in the order QR codes, DataMatrix, Code 128; callers take
// the first one that is valid for them.
func DecodeImage(ctx context.Context, img image.Image) ([]edge.Symbol, error) {
	syms, err := decodeGrey(ctx, newGrey(img, lumaEven), steps)
	if err != nil {
		return []edge.Symbol{}, err
	}
	if len(syms) == 0 {
		return []edge.Symbol{}, edge.Refuse(edge.Unreadable, "No QR code, DataMatrix or barcode was found in the image.")
	}
	return syms, nil
}

// A step is one attempt of the cascade on a luminance source.
type step struct {
	name string
	run  func(src *grey) []edge.Symbol
}

var hard = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}

// steps is the cascade, cheapest first; each runs only when the ones before
// found nothing. What each step reads of the corpus and what it costs is
// measured by TestCascadeSteps (go test -run TestCascadeSteps -v ./scanner/).
var steps = []step{
	// At first sight: local thresholds, every reader. Reads 95 of the
	// corpus's 104 images.
	{"fast", func(src *grey) []edge.Symbol {
		return read(src, gozxing.NewHybridBinarizer, nil, readQR, readDataMatrix, readCode128)
	}},
	// One threshold for the whole image: some blurred or unevenly lit
	// photos that the local thresholds miss; codes on bent labels sampled
	// between all their alignment patterns.
	{"global", func(src *grey) []edge.Symbol {
		return read(src, gozxing.NewGlobalHistgramBinarizer, hard, readQROrWarped)
	}},
	// A light code on a dark screen (none in the corpus; phones in dark
	// mode show them).
	{"inverted", func(src *grey) []edge.Symbol {
		return read(src.Invert(), gozxing.NewHybridBinarizer, hard, readQR, readDataMatrix)
	}},
	// Harder: every row for finder patterns and bars, barcodes turned by
	// 90 degrees (none first in the corpus; small codes in large frames
	// and upright barcodes need it).
	{"harder", func(src *grey) []edge.Symbol {
		return read(src, gozxing.NewHybridBinarizer, hard, readQR, readCode128)
	}},
	// Small images: modules of 2 to 3 pixels, twice as large (2 more of
	// the corpus).
	{"upscaled", func(src *grey) []edge.Symbol {
		if max(src.Width, src.Height) > maxUpscaleSide {
			return nil
		}
		return read(src.upscale2(), gozxing.NewGlobalHistgramBinarizer, hard, readQR)
	}},
	// A code turned by about 45 degrees: no row crosses a barcode whole,
	// and the finder patterns of a QR code fail their cross-checks.
	{"rotated45", func(src *grey) []edge.Symbol {
		if src.Width*src.Height > maxRotatePixels {
			return nil
		}
		return read(src.rotate45(), gozxing.NewHybridBinarizer, hard, readQR, readCode128, readDataMatrix)
	}},
}

const (
	// maxUpscaleSide: larger images have modules large enough already,
	// and doubling them costs more than it reads.
	maxUpscaleSide = 640
	// maxRotatePixels bounds the cost of the 45-degree turn on large
	// frames that hold no code (the common frame at an idle counter).
	maxRotatePixels = 1280 * 720
)

// decodeGrey runs the cascade over src and returns the symbols of the first
// step that finds any.
func decodeGrey(ctx context.Context, src *grey, steps []step) ([]edge.Symbol, error) {
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if syms := s.run(src); len(syms) > 0 {
			return syms, nil
		}
	}
	return nil, nil
}

// A symbolReader reads the symbols of one format in bmp.
type symbolReader func(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result

// read runs each reader over src. They share one bitmap: the 2D readers
// read its cached matrix and do not change it, and the 1D reader asks for
// rows, which the binarizer computes apart.
func read(src gozxing.LuminanceSource, binarizer func(gozxing.LuminanceSource) gozxing.Binarizer, hints map[gozxing.DecodeHintType]any, readers ...symbolReader) []edge.Symbol {
	var syms []edge.Symbol
	bmp, err := gozxing.NewBinaryBitmap(binarizer(src))
	if err != nil {
		return nil
	}
	for _, r := range readers {
		for _, res := range safely(r, bmp, hints) {
			s := edge.Symbol{Format: res.GetBarcodeFormat().String(), Text: text(res)}
			if !containsSymbol(syms, s) {
				syms = append(syms, s)
			}
		}
	}
	return syms
}

func containsSymbol(syms []edge.Symbol, s edge.Symbol) bool {
	for _, t := range syms {
		if t == s {
			return true
		}
	}
	return false
}

// readQR reads every QR code of bmp: the multiple reader first, which finds
// several codes, then the single one, whose finder-pattern search reads a
// few photos the multiple one does not.
func readQR(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	if res, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints); err == nil && len(res) > 0 {
		return res
	}
	if res, err := qrcode.NewQRCodeReader().Decode(bmp, hints); err == nil {
		return []*gozxing.Result{res}
	}
	return nil
}

// readQROrWarped reads QR codes as readQR does, then as readQRWarped.
func readQROrWarped(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	if res := readQR(bmp, hints); len(res) > 0 {
		return res
	}
	return readQRWarped(bmp, hints)
}

func readCode128(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	return one(oned.NewCode128Reader().Decode(bmp, hints))
}

func readDataMatrix(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	return one(datamatrix.NewDataMatrixReader().Decode(bmp, hints))
}

func one(res *gozxing.Result, err error) []*gozxing.Result {
	if err != nil {
		return nil
	}
	return []*gozxing.Result{res}
}

// safely runs r over bmp. A panic inside the decoding library, on some
// hostile image, is taken as "no symbol": it must not bring the terminal
// down.
func safely(r symbolReader, bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) (res []*gozxing.Result) {
	defer func() {
		if p := recover(); p != nil {
			slog.Warn("barcode reader panicked", "component", "scanner", "panic", fmt.Sprint(p))
			res = nil
		}
	}()
	return r(bmp, hints)
}

func readQRSingle(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	return one(qrcode.NewQRCodeReader().Decode(bmp, hints))
}
