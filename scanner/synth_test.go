package scanner_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/datamatrix/encoder"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
)

// rotate turns src by deg degrees about its centre onto a canvas that holds
// all of it, filled with the grey of Frame's background, sampling
// bilinearly as a camera would.
func rotate(src *image.Gray, deg float64) *image.Gray {
	b := src.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	sin, cos := math.Sincos(deg * math.Pi / 180)
	side := int(math.Abs(w*cos)+math.Abs(h*sin)) + 2
	sideH := int(math.Abs(w*sin)+math.Abs(h*cos)) + 2
	dst := image.NewGray(image.Rect(0, 0, side, sideH))
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= b.Dx() || y >= b.Dy() {
			return 200
		}
		return float64(src.Pix[(b.Min.Y+y-src.Rect.Min.Y)*src.Stride+b.Min.X+x-src.Rect.Min.X])
	}
	for y := 0; y < sideH; y++ {
		for x := 0; x < side; x++ {
			dx, dy := float64(x)+0.5-float64(side)/2, float64(y)+0.5-float64(sideH)/2
			sx, sy := cos*dx+sin*dy+w/2-0.5, -sin*dx+cos*dy+h/2-0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := at(x0, y0)*(1-fx)*(1-fy) + at(x0+1, y0)*fx*(1-fy) + at(x0, y0+1)*(1-fx)*fy + at(x0+1, y0+1)*fx*fy
			dst.Pix[y*dst.Stride+x] = uint8(v + 0.5)
		}
	}
	return dst
}

// blur averages each pixel with its neighbours r pixels away.
func blur(src *image.Gray, r int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sum, n := 0, 0
			for j := -r; j <= r; j++ {
				for i := -r; i <= r; i++ {
					if image.Pt(x+i, y+j).In(b) {
						sum += int(src.GrayAt(x+i, y+j).Y)
						n++
					}
				}
			}
			dst.SetGray(x, y, color.Gray{Y: uint8(sum / n)})
		}
	}
	return dst
}

func mirror(src *image.Gray) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.SetGray(b.Max.X-1-(x-b.Min.X), y, src.GrayAt(x, y))
		}
	}
	return dst
}

// phone shows src on a phone's screen held up to the camera: a dark bezel
// on a counter top, a dim screen of low contrast, and a band of glare.
func phone(src *image.Gray, w, h int) *image.RGBA {
	f := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(f, f.Bounds(), image.NewUniform(color.RGBA{150, 120, 90, 255}), image.Point{}, draw.Src)
	sb := src.Bounds()
	bezel := image.Rect(0, 0, sb.Dx()+60, sb.Dy()+200).Add(image.Pt((w-sb.Dx()-60)/2, (h-sb.Dy()-200)/2))
	draw.Draw(f, bezel, image.NewUniform(color.RGBA{20, 20, 25, 255}), image.Point{}, draw.Src)
	origin := bezel.Min.Add(image.Pt(30, 100))
	for y := 0; y < sb.Dy(); y++ {
		for x := 0; x < sb.Dx(); x++ {
			// Dim screen: black is 70, white 150; glare adds up to 80 on a
			// diagonal band.
			v := 70 + float64(src.GrayAt(sb.Min.X+x, sb.Min.Y+y).Y)*80/255
			d := math.Abs(float64(x-y)) / float64(sb.Dx())
			v += 80 * math.Max(0, 1-3*d)
			c := uint8(math.Min(255, v))
			f.SetRGBA(origin.X+x, origin.Y+y, color.RGBA{c, c, uint8(math.Min(255, v+10)), 255})
		}
	}
	return f
}

// qrCharset returns a QR code of text in byte mode with the given
// character set, with an ECI segment naming it when eci is set.
func qrCharset(tb testing.TB, text, charset string, eci bool, size int) *image.Gray {
	tb.Helper()
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_CHARACTER_SET: charset}
	if !eci {
		// gozxing writes an ECI for any character set but ISO-8859-1
		// unless told not to: a code that leaves its encoding to be
		// guessed, as many Japanese generators make.
		hints[gozxing.EncodeHintType_GS1_FORMAT] = false
	}
	bm, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, size, size, hints)
	if err != nil {
		tb.Fatal(err)
	}
	return toGray(bm)
}

// TestDecoder_Synthetic reads codes the test draws, turned, blurred, shrunk,
// inverted, mirrored, small in large frames and on a phone's screen.
func TestDecoder_Synthetic(t *testing.T) {
	const ra = "RR123456785FR"
	qr := QRImage(t, qrText, 400)
	small := QRImage(t, ra, 240)
	bar := Code128Image(t, "XY123456785FR", 400, 120)
	dmRaw, err := datamatrix.NewDataMatrixWriter().Encode(ra, gozxing.BarcodeFormat_DATA_MATRIX, 200, 200,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_DATA_MATRIX_SHAPE: encoder.SymbolShapeHint_FORCE_SQUARE})
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name string
		img  image.Image
		want edge.Symbol
	}
	qrSym := edge.Symbol{Format: "QR_CODE", Text: qrText}
	raSym := edge.Symbol{Format: "QR_CODE", Text: ra}
	barSym := edge.Symbol{Format: "CODE_128", Text: "XY123456785FR"}
	dmSym := edge.Symbol{Format: "DATA_MATRIX", Text: ra}
	var tests []tc
	// Not yet read: DataMatrix codes other than the writer's own output.
	for _, deg := range []float64{0, 17, 30, 45, 90, 135, 160, 180, 200, 225, 291, 315} {
		tests = append(tests, tc{"QR turned " + itoa(deg), Frame(rotate(qr, deg), 900, 900, 100, 100), qrSym})
	}
	for _, deg := range []float64{0, 17, 30, 45, 90, 135, 180, 225, 291} {
		// Turned by 30 to 60 degrees, barcodes are read in frames of
		// 640x480 or less only (maxRotatePixels).
		tests = append(tests, tc{"Code 128 turned " + itoa(deg), Frame(rotate(bar, deg), 560, 540, 10, 10), barSym})
	}
	tests = append(tests, tc{"DataMatrix", Frame(toGray(dmRaw), 400, 400, 50, 50), dmSym})
	tests = append(tests,
		tc{"QR blurred", blur(Frame(qr, 640, 480, 120, 40), 1), qrSym},
		tc{"QR blurred and turned", blur(Frame(rotate(small, 20), 640, 480, 120, 40), 1), raSym},
		tc{"QR scaled down to 2 px modules", Frame(scaleDown(QRImage(t, ra, 2*29*2), 2), 640, 480, 200, 100), raSym},
		tc{"QR inverted", invert(Frame(small, 640, 480, 100, 50)), raSym},
		tc{"QR inverted and turned", invert(Frame(rotate(small, 33), 640, 480, 100, 50)), raSym},
		tc{"QR mirrored", Frame(mirror(qr), 640, 480, 100, 40), qrSym},
		tc{"QR mirrored and turned", Frame(rotate(mirror(small), 60), 640, 480, 100, 40), raSym},
		tc{"Code 128 mirrored", Frame(mirror(bar), 640, 300, 100, 90), barSym},
		tc{"Code 128 blurred", blur(Frame(bar, 640, 300, 100, 90), 1), barSym},
		tc{"QR in a 1920x1080 frame (read at half size)", Frame(qr, 1920, 1080, 700, 300), qrSym},
		tc{"Code 128 in a 1920x1080 frame", Frame(bar, 1920, 1080, 700, 300), barSym},
		tc{"small QR in a 1920x1080 frame", Frame(QRImage(t, ra, 120), 1920, 1080, 1500, 800), raSym},
		tc{"QR on a dim phone screen with glare", phone(qr, 1280, 960), qrSym},
		tc{"turned QR on a phone screen", phone(rotate(small, 15), 800, 600), raSym},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syms, err := scanner.DecodeImage(context.Background(), tt.img)
			if err != nil {
				t.Fatalf("DecodeImage: %v", err)
			}
			if !slices.Contains(syms, tt.want) {
				t.Errorf("got %+v, want %+v among them", syms, tt.want)
			}
		})
	}
}

func itoa(deg float64) string {
	return string(rune('0'+int(deg)/100)) + string(rune('0'+int(deg)/10%10)) + string(rune('0'+int(deg)%10))
}

// TestDecoder_Several finds every code of a frame: two QR codes (a marketing
// code beside the return code), and a Code 128 barcode.
func TestDecoder_Several(t *testing.T) {
	f := Frame(QRImage(t, "https://example.com/promo", 240), 1280, 720, 20, 20)
	draw.Draw(f, image.Rect(700, 20, 1000, 320), QRImage(t, qrText, 300), image.Point{}, draw.Src)
	draw.Draw(f, image.Rect(300, 400, 900, 520), Code128Image(t, "XY123456785FR", 600, 120), image.Point{}, draw.Src)
	syms, err := scanner.DecodeImage(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []edge.Symbol{
		{Format: "QR_CODE", Text: "https://example.com/promo"},
		{Format: "QR_CODE", Text: qrText},
		{Format: "CODE_128", Text: "XY123456785FR"},
	} {
		if !slices.Contains(syms, want) {
			t.Errorf("%+v missing from %+v", want, syms)
		}
	}
}

// TestDecoder_Charsets reads QR byte-mode text in Shift_JIS and UTF-8, named
// by an ECI or left to be guessed.
func TestDecoder_Charsets(t *testing.T) {
	const jp = "返品コード：東京都千代田区１－１"
	for _, tt := range []struct {
		charset string
		eci     bool
	}{{"Shift_JIS", true}, {"Shift_JIS", false}, {"UTF-8", true}, {"UTF-8", false}} {
		name := tt.charset + map[bool]string{true: " with ECI", false: " guessed"}[tt.eci]
		t.Run(name, func(t *testing.T) {
			img := Frame(qrCharset(t, jp, tt.charset, tt.eci, 300), 640, 480, 100, 50)
			syms, err := scanner.DecodeImage(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if syms[0].Text != jp {
				t.Errorf("got %q, want %q", syms[0].Text, jp)
			}
		})
	}
}
