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
	qrdecoder "github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"

	"github.com/comptoir/comptoir/edge"
)

// DecodeImage returns the symbols found in an already decoded image, with the
// same errors as Decoder.Decode except the limits, which it does not check.
// The symbols are in the order QR codes, DataMatrix, Code 128; callers take
// the first one that is valid for them.
func DecodeImage(ctx context.Context, img image.Image) ([]edge.Symbol, error) {
	src := newGrey(img, lumaEven)
	syms, err := decodeGrey(ctx, src, steps)
	src.release()
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
	// Frames of more than maxFullPixels, at half size first: the modules
	// of a code held up to the camera are large enough, and a quarter of
	// the pixels costs a quarter of the time.
	{"halved", func(src *grey) []edge.Symbol {
		if src.Width*src.Height <= maxFullPixels {
			return nil
		}
		return read(src.half(), newHybrid, nil, readAll)
	}},
	// At first sight: local thresholds, every reader. Reads 95 of the
	// corpus's 104 images.
	{"fast", func(src *grey) []edge.Symbol {
		return read(src, newHybrid, nil, readAll)
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
		return read(src.Invert(), newHybrid, hard, readQR, readDataMatrix)
	}},
	// Code 128 harder: more rows, each read both ways, and the image
	// turned by 90 degrees (none first in the corpus; upright barcodes and
	// barcodes away from the middle rows need it). QR codes tried harder
	// read nothing more, in the corpus or the synthetic frames.
	{"harder", func(src *grey) []edge.Symbol {
		return read(src, newHybrid, hard, readCode128)
	}},
	// Small images: modules of 2 to 3 pixels, twice as large (2 more of
	// the corpus).
	{"upscaled", func(src *grey) []edge.Symbol {
		if max(src.Width, src.Height) > maxUpscaleSide {
			return nil
		}
		return read(src.upscale2(), gozxing.NewGlobalHistgramBinarizer, hard, readQR)
	}},
	// A barcode or DataMatrix turned by about 45 degrees, which no row
	// crosses whole. Not QR codes: on a textured frame turned by 45
	// degrees gozxing's finder-pattern selection (cubic in its candidates)
	// runs for seconds.
	{"rotated45", func(src *grey) []edge.Symbol {
		if src.Width*src.Height > maxRotatePixels {
			return nil
		}
		return read(src.rotate45(), newHybrid, hard, readCode128, readDataMatrix)
	}},
}

const (
	// maxFullPixels: larger frames (1280x960 and up) are tried at half
	// size first. The corpus's 640x480 photos are not: at half size the
	// first step reads only 10 of its 20.
	maxFullPixels = 1_200_000
	// maxUpscaleSide: larger images have modules large enough already,
	// and doubling them costs more than it reads.
	maxUpscaleSide = 640
	// maxRotatePixels bounds the cost of the 45-degree turn: on an empty
	// 1280x720 frame (the common frame at an idle counter) it would cost
	// 31 ms, more than all the other steps together (21 ms).
	maxRotatePixels = 640 * 480
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

// readQR reads the QR codes of bmp: one as gozxing's QR reader does, then,
// when the image holds finder patterns enough for two codes or more (a
// marketing code beside the return code), the others with the multiple
// reader. That one tries every triple of finder-pattern candidates: on some
// textures (a counter top turned by 45 degrees) it runs for minutes, so it
// is only given images with few candidates. The candidates are those the
// first read found: its finder runs once, not again to count them.
func readQR(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	img, err := bmp.GetBlackMatrix()
	if err != nil {
		return nil
	}
	finder := detector.NewFinderPatternFinder(img, nil)
	info, err := finder.Find(hints)
	if err != nil {
		return nil
	}
	first, err := decodeQRAt(img, info, hints)
	if err != nil {
		return nil
	}
	out := []*gozxing.Result{first}
	if n := len(finder.GetPossibleCenters()); n < 6 || n > maxFinderCandidates {
		return out
	}
	more, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints)
	if err != nil {
		return out
	}
	for _, r := range more {
		if r.GetText() != first.GetText() {
			out = append(out, r)
		}
	}
	return out
}

// decodeQRAt is gozxing's QRCodeReader.Decode after its finder-pattern
// search: the code at the patterns of info, with its points corrected for
// a mirrored code. (Result metadata other than the text is not kept: the
// scanner uses the text and the points.)
func decodeQRAt(img *gozxing.BitMatrix, info *detector.FinderPatternInfo, hints map[gozxing.DecodeHintType]any) (*gozxing.Result, error) {
	det, err := detector.NewDetector(img).ProcessFinderPatternInfo(info)
	if err != nil {
		return nil, err
	}
	dr, err := qrdecoder.NewDecoder().Decode(det.GetBits(), hints)
	if err != nil {
		return nil, err
	}
	points := det.GetPoints()
	if meta, ok := dr.GetOther().(*qrdecoder.QRCodeDecoderMetaData); ok {
		meta.ApplyMirroredCorrection(points)
	}
	return gozxing.NewResult(dr.GetText(), dr.GetRawBytes(), points, gozxing.BarcodeFormat_QR_CODE), nil
}

// maxFinderCandidates bounds the multiple QR reader's work (cubic in the
// candidates): enough for four codes and some noise.
const maxFinderCandidates = 16

// readQROrWarped reads QR codes as readQR does, then as readQRWarped, then
// as readQRResized.
func readQROrWarped(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	if res := readQR(bmp, hints); len(res) > 0 {
		return res
	}
	if res := readQRWarped(bmp, hints); len(res) > 0 {
		return res
	}
	return readQRResized(bmp, hints)
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
