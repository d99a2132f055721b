package scanner_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/scanner"
)

// benchFrame is a 1280x720 camera frame holding an RA-sized QR code, as a
// JPEG the way a camera delivers it.
func benchFrame(b *testing.B) ([]byte, image.Image) {
	data := encodeJPEG(b, Frame(QRImage(b, qrText, 420), 1280, 720, 430, 150), 85)
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	return data, img
}

// BenchmarkDecodeQR measures the whole of Decoder.Decode on a JPEG frame:
// JPEG decoding, the luminance buffer and the QR reader.
func BenchmarkDecodeQR(b *testing.B) {
	data, _ := benchFrame(b)
	var d scanner.Decoder
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		syms, err := d.Decode(ctx, data)
		if err != nil || syms[0].Text != qrText {
			b.Fatalf("decode: %v %v", syms, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/frame")
}

// BenchmarkDecodeQRImage measures the decode of an already decoded frame,
// the figure the corpus README gives for other decoders.
func BenchmarkDecodeQRImage(b *testing.B) {
	_, img := benchFrame(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if syms, err := scanner.DecodeImage(ctx, img); err != nil || syms[0].Text != qrText {
			b.Fatalf("decode: %v %v", syms, err)
		}
	}
}

// BenchmarkDecodeQRStockGozxing is gozxing's default use on the same frame,
// for comparison: image.At per pixel, then the QR reader.
func BenchmarkDecodeQRStockGozxing(b *testing.B) {
	_, img := benchFrame(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			b.Fatal(err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil || res.GetText() != qrText {
			b.Fatalf("decode: %v", err)
		}
	}
}

// BenchmarkDecodeQRStockGozxingGrey is stock gozxing's decode alone on the
// same frame, its luminance source made beforehand: the speed target of
// BenchmarkDecodeQRImage (which reads the JPEG's Y plane in place).
func BenchmarkDecodeQRStockGozxingGrey(b *testing.B) {
	_, img := benchFrame(b)
	src := gozxing.NewLuminanceSourceFromImage(img)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
		if err != nil {
			b.Fatal(err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil || res.GetText() != qrText {
			b.Fatalf("decode: %v", err)
		}
	}
}

// BenchmarkDecodeNoSymbol measures a camera frame with no code in it, the
// most common frame at an idle counter: every fallback is tried.
func BenchmarkDecodeNoSymbol(b *testing.B) {
	f := Frame(image.NewGray(image.Rect(0, 0, 1, 1)), 1280, 720, 0, 0)
	for y := 0; y < 720; y++ { // some texture, like a counter top
		for x := 0; x < 1280; x++ {
			f.Pix[y*f.Stride+x] = uint8(120 + (x*7+y*13)%60)
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(encodeJPEG(b, f, 85)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if syms, err := scanner.DecodeImage(ctx, img); err == nil || len(syms) != 0 {
			b.Fatalf("found %v", syms)
		}
	}
}
