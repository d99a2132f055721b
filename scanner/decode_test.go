package scanner_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
)

// qrText is as long as a lean RA token: a QR code of version 15.
const qrText = "eyJhbGciOiJFZERTQSIsImtpZCI6InM0MiIsInR5cCI6ImNvbXB0b2lyLXJhK2p3dCJ9." +
	"eyJpc3MiOiJzaG9wLTQyIiwianRpIjoiMDE5YWIzYzQtNWQ2ZS03ZjgwLTlhMWItMmMzZDRlNWY2YTdiIiwiZXhwIjoxNzk3OTM0NTAzLCJ0cmsiOiJYWTEyMzQ1Njc4NUZSIiwiZHN0Ijp7Im5hbWUiOiJXSC1MWVM3In0sIml0ZW1zIjpbeyJza3UiOiJUU0gtQkwtTSIsInF0eSI6MSwicmVhc29uIjoiV1JPTkdfU0laRSJ9XX0." +
	"bWFkZS11cC1zaWduYXR1cmUtb2YtNjQtYnl0ZXMtZm9yLXRoZS1zaXplLW9ubHktLS0tLS0tLS0tLS0tLS0tLS0"

// QRImage returns a QR code of text, size pixels square with its quiet zone.
func QRImage(tb testing.TB, text string, size int) *image.Gray {
	tb.Helper()
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: "M"}
	bm, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, size, size, hints)
	if err != nil {
		tb.Fatal(err)
	}
	return toGray(bm)
}

// Code128Image returns a Code 128 barcode of text.
func Code128Image(tb testing.TB, text string, w, h int) *image.Gray {
	tb.Helper()
	bm, err := oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, w, h, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return toGray(bm)
}

func toGray(src image.Image) *image.Gray {
	g := image.NewGray(src.Bounds())
	draw.Draw(g, g.Bounds(), src, src.Bounds().Min, draw.Src)
	return g
}

// Frame places img at (x, y) on a light grey background of w x h, as a
// camera frame would show it.
func Frame(img image.Image, w, h, x, y int) *image.Gray {
	f := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(f, f.Bounds(), image.NewUniform(color.Gray{Y: 200}), image.Point{}, draw.Src)
	draw.Draw(f, img.Bounds().Add(image.Pt(x, y)), img, img.Bounds().Min, draw.Src)
	return f
}

func rotate90(src *image.Gray) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			dst.SetGray(b.Dy()-1-y, x, src.GrayAt(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// scaleDown shrinks src by an integer factor, averaging each block, as a
// code far from the camera looks.
func scaleDown(src *image.Gray, f int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx()/f, b.Dy()/f))
	for y := 0; y < dst.Rect.Dy(); y++ {
		for x := 0; x < dst.Rect.Dx(); x++ {
			sum := 0
			for j := 0; j < f; j++ {
				for i := 0; i < f; i++ {
					sum += int(src.GrayAt(b.Min.X+x*f+i, b.Min.Y+y*f+j).Y)
				}
			}
			dst.SetGray(x, y, color.Gray{Y: uint8(sum / (f * f))})
		}
	}
	return dst
}

func invert(src *image.Gray) *image.Gray {
	dst := image.NewGray(src.Rect)
	for i, p := range src.Pix {
		dst.Pix[i] = 255 - p
	}
	return dst
}

// colour paints the dark modules navy and the light ones pale yellow, with
// alpha, to exercise the RGBA path.
func colour(src *image.Gray) *image.NRGBA {
	dst := image.NewNRGBA(src.Rect)
	for i, p := range src.Pix {
		c := color.NRGBA{R: 250, G: 240, B: 180, A: 255}
		if p < 128 {
			c = color.NRGBA{R: 20, G: 30, B: 90, A: 255}
		}
		dst.Pix[4*i], dst.Pix[4*i+1], dst.Pix[4*i+2], dst.Pix[4*i+3] = c.R, c.G, c.B, c.A
	}
	return dst
}

func paletted(src *image.Gray) *image.Paletted {
	dst := image.NewPaletted(src.Rect, color.Palette{color.White, color.Black})
	for i, p := range src.Pix {
		if p < 128 {
			dst.Pix[i] = 1
		}
	}
	return dst
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image, q int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecoder_Decode(t *testing.T) {
	qr := QRImage(t, qrText, 400)
	small := QRImage(t, "RR123456785FR", 200)
	bar := Code128Image(t, "XY123456785FR", 400, 120)

	tests := []struct {
		name string
		data []byte
		want []edge.Symbol
	}{
		{"QR, plain PNG", encodePNG(t, qr), []edge.Symbol{{Format: "QR_CODE", Text: qrText}}},
		{"QR in a 1280x720 frame, JPEG", encodeJPEG(t, Frame(qr, 1280, 720, 500, 150), 85), []edge.Symbol{{Format: "QR_CODE", Text: qrText}}},
		{"QR rotated 90", encodePNG(t, Frame(rotate90(qr), 800, 600, 100, 100)), []edge.Symbol{{Format: "QR_CODE", Text: qrText}}},
		{"QR scaled down", encodePNG(t, Frame(scaleDown(QRImage(t, "RR123456785FR", 420), 3), 640, 480, 200, 100)), []edge.Symbol{{Format: "QR_CODE", Text: "RR123456785FR"}}},
		{"QR inverted (light on dark screen)", encodePNG(t, invert(Frame(small, 400, 300, 100, 50))), []edge.Symbol{{Format: "QR_CODE", Text: "RR123456785FR"}}},
		{"QR in colour with alpha", encodePNG(t, colour(Frame(small, 400, 300, 100, 50))), []edge.Symbol{{Format: "QR_CODE", Text: "RR123456785FR"}}},
		{"QR paletted", encodePNG(t, paletted(small)), []edge.Symbol{{Format: "QR_CODE", Text: "RR123456785FR"}}},
		{"Code 128", encodePNG(t, Frame(bar, 640, 300, 100, 90)), []edge.Symbol{{Format: "CODE_128", Text: "XY123456785FR"}}},
		{"Code 128 rotated 90", encodePNG(t, Frame(rotate90(bar), 300, 640, 90, 100)), []edge.Symbol{{Format: "CODE_128", Text: "XY123456785FR"}}},
		{"Code 128, JPEG", encodeJPEG(t, Frame(bar, 640, 300, 100, 90), 75), []edge.Symbol{{Format: "CODE_128", Text: "XY123456785FR"}}},
	}
	var d scanner.Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode(context.Background(), tt.data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d symbols %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("symbol %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecoder_BothSymbols(t *testing.T) {
	f := Frame(QRImage(t, "RR123456785FR", 240), 900, 400, 20, 80)
	draw.Draw(f, image.Rect(300, 140, 880, 260), Code128Image(t, "XY123456785FR", 580, 120), image.Point{}, draw.Src)
	got, err := new(scanner.Decoder).Decode(context.Background(), encodePNG(t, f))
	if err != nil {
		t.Fatal(err)
	}
	want := []edge.Symbol{{Format: "QR_CODE", Text: "RR123456785FR"}, {Format: "CODE_128", Text: "XY123456785FR"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// pngHeader returns the signature and IHDR chunk of a PNG of w x h grey
// pixels, with nothing after: enough for image.DecodeConfig.
func pngHeader(w, h uint32) []byte {
	var ihdr bytes.Buffer
	ihdr.WriteString("IHDR")
	binary.Write(&ihdr, binary.BigEndian, w)
	binary.Write(&ihdr, binary.BigEndian, h)
	ihdr.Write([]byte{8, 0, 0, 0, 0}) // 8-bit greyscale, deflate, no filter, no interlace
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&out, binary.BigEndian, uint32(ihdr.Len()-4))
	out.Write(ihdr.Bytes())
	binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(ihdr.Bytes()))
	return out.Bytes()
}

func TestDecoder_Refusals(t *testing.T) {
	valid := encodePNG(t, QRImage(t, "RR123456785FR", 200))
	blank := encodePNG(t, image.NewGray(image.Rect(0, 0, 320, 240)))
	tests := []struct {
		name string
		d    scanner.Decoder
		data []byte
		want string
	}{
		{"100000x100000 header", scanner.Decoder{}, pngHeader(100000, 100000), edge.ETOOLARGE},
		{"above MaxPixels", scanner.Decoder{MaxPixels: 100 * 100}, valid, edge.ETOOLARGE},
		{"above MaxBytes", scanner.Decoder{MaxBytes: 100}, valid, edge.ETOOLARGE},
		{"header only", scanner.Decoder{}, pngHeader(10, 10), string(edge.Unreadable)},
		{"truncated", scanner.Decoder{}, valid[:len(valid)/2], string(edge.Unreadable)},
		{"corrupt data", scanner.Decoder{}, append(valid[:60:60], bytes.Repeat([]byte{0xA5}, 400)...), string(edge.Unreadable)},
		{"not an image", scanner.Decoder{}, []byte("hello, world"), string(edge.Unreadable)},
		{"empty", scanner.Decoder{}, nil, string(edge.Unreadable)},
		{"no symbol", scanner.Decoder{}, blank, string(edge.Unreadable)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syms, err := tt.d.Decode(context.Background(), tt.data)
			if got := edge.ErrorCode(err); got != tt.want {
				t.Fatalf("got %v, want code %s", err, tt.want)
			}
			if syms == nil || len(syms) != 0 {
				t.Errorf("symbols: got %#v, want an empty slice", syms)
			}
		})
	}
}

func TestDecoder_Cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := new(scanner.Decoder).Decode(ctx, encodePNG(t, QRImage(t, "RR123456785FR", 200)))
	if err == nil || edge.ErrorCode(err) != edge.EINTERNAL {
		t.Errorf("got %v, want the context's error", err)
	}
}

// TestDecoder_Timeout: a decode that takes longer than the Decoder's timeout
// answers UNREADABLE at once instead of holding the request, and the slot it
// held comes back, so the next frame reads.
func TestDecoder_Timeout(t *testing.T) {
	noise := image.NewGray(image.Rect(0, 0, 1920, 1080))
	for i := range noise.Pix {
		noise.Pix[i] = byte(i*7919) ^ byte(i>>5)
	}
	slow := scanner.Decoder{Timeout: time.Millisecond}
	_, err := slow.Decode(context.Background(), encodePNG(t, noise))
	if edge.ErrorCode(err) != string(edge.Unreadable) || !strings.Contains(edge.ErrorMessage(err), "too long") {
		t.Fatalf("got %v, want UNREADABLE for taking too long", err)
	}
	for range 3 {
		got, err := new(scanner.Decoder).Decode(context.Background(), encodePNG(t, QRImage(t, "RR123456785FR", 200)))
		if err != nil || len(got) != 1 || got[0].Text != "RR123456785FR" {
			t.Fatalf("decode after a timeout: %+v, %v", got, err)
		}
	}
}
