package scanner

import (
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
)

// grey is a gozxing.LuminanceSource over a buffer of 8-bit luminances. It is
// built straight from the pixel arrays of the usual decoded image types: the
// Y plane of a JPEG, the bytes of a grey PNG, the samples of an RGB(A) one,
// instead of gozxing's image.At per pixel, which costs most of a decode.
type grey struct {
	gozxing.LuminanceSourceBase
	pix       []byte
	stride    int // bytes from one row of pix to the next
	left, top int // origin of this (cropped) view in pix
}

var _ gozxing.LuminanceSource = (*grey)(nil)

// lumaWeights weigh red, green and blue into a luminance:
// (r*R + g*G + b*B + round) >> 10.
type lumaWeights struct{ r, g, b, round int }

// Two ways to weigh colour into grey. Neither reads every image of the
// real-world corpus that the other reads, so a colour image that yields
// nothing with the first is tried with the second.
var (
	// lumaEven is gozxing's (R+2G+B)/4; it reads more of the corpus's
	// phone photos (qrcode-1: 19/20 against 17/20).
	lumaEven = lumaWeights{256, 512, 256, 0}
	// lumaJava is Java ZXing's BufferedImageLuminanceSource (BT.601); it
	// reads one more of qrcode-2.
	lumaJava = lumaWeights{306, 601, 117, 0x200}
)

func (w lumaWeights) luma(r, g, b uint8) uint8 {
	return uint8((w.r*int(r) + w.g*int(g) + w.b*int(b) + w.round) >> 10)
}

// isColour reports whether the luminances of img depend on the weights.
func isColour(img image.Image) bool {
	switch img.(type) {
	case *image.YCbCr, *image.Gray:
		return false
	}
	return true
}

// newGrey returns a luminance source holding the luminances of img, colours
// weighed by w.
func newGrey(img image.Image, w lumaWeights) *grey {
	b := img.Bounds()
	wd, h := b.Dx(), b.Dy()
	pix := make([]byte, wd*h)
	switch m := img.(type) {
	case *image.YCbCr:
		// A JPEG's luma is the luminance: copy the Y plane's rows.
		for y := 0; y < h; y++ {
			off := m.YOffset(b.Min.X, b.Min.Y+y)
			copy(pix[y*wd:(y+1)*wd], m.Y[off:off+wd])
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			off := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(pix[y*wd:(y+1)*wd], m.Pix[off:off+wd])
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := pix[y*wd : (y+1)*wd]
			for x := range out {
				p := row[4*x : 4*x+4 : 4*x+4]
				out[x] = overWhite(w.luma(p[0], p[1], p[2]), p[3])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := pix[y*wd : (y+1)*wd]
			for x := range out {
				p := row[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: composing over white adds the missing white.
				out[x] = byte(min(255, int(w.luma(p[0], p[1], p[2]))+255-int(p[3])))
			}
		}
	case *image.Paletted:
		var lut [256]byte
		for i, c := range m.Palette {
			lut[i] = w.colorLuma(c)
		}
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := pix[y*wd : (y+1)*wd]
			for x := range out {
				out[x] = lut[row[x]]
			}
		}
	default:
		// 16-bit and CMYK images are rare at the counter: the slow path.
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				pix[i] = w.colorLuma(img.At(x, y))
				i++
			}
		}
	}
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: wd, Height: h}, pix: pix, stride: wd}
}

// overWhite composes a luminance of alpha a over a white background, as a
// transparent PNG looks on a screen.
func overWhite(l, a uint8) uint8 {
	if a == 0xff {
		return l
	}
	return uint8((int(l)*int(a) + 255*(255-int(a)) + 127) / 255)
}

func (w lumaWeights) colorLuma(c color.Color) uint8 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return overWhite(w.luma(n.R, n.G, n.B), n.A)
}

// GetRow returns row y of the source.
func (g *grey) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= g.Height {
		return nil, fmt.Errorf("IllegalArgumentException: requested row is outside the image: %v", y)
	}
	if len(row) < g.Width {
		row = make([]byte, g.Width)
	}
	off := (g.top+y)*g.stride + g.left
	copy(row, g.pix[off:off+g.Width])
	return row, nil
}

// GetMatrix returns the luminances row by row; for an uncropped source it is
// the buffer itself, which callers do not modify.
func (g *grey) GetMatrix() []byte {
	if g.left == 0 && g.top == 0 && g.stride == g.Width && len(g.pix) == g.Width*g.Height {
		return g.pix
	}
	m := make([]byte, g.Width*g.Height)
	for y := 0; y < g.Height; y++ {
		off := (g.top+y)*g.stride + g.left
		copy(m[y*g.Width:(y+1)*g.Width], g.pix[off:off+g.Width])
	}
	return m
}

// IsCropSupported reports true.
func (g *grey) IsCropSupported() bool { return true }

// Crop returns a view of a rectangle of the source, sharing its buffer.
func (g *grey) Crop(left, top, width, height int) (gozxing.LuminanceSource, error) {
	if left < 0 || top < 0 || width < 0 || height < 0 || left+width > g.Width || top+height > g.Height {
		return nil, errors.New("IllegalArgumentException: crop rectangle does not fit within image data")
	}
	return &grey{
		LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: width, Height: height},
		pix:                 g.pix, stride: g.stride, left: g.left + left, top: g.top + top,
	}, nil
}

// IsRotateSupported reports true: one-dimensional readers try a barcode
// turned by 90 degrees when told to try harder.
func (g *grey) IsRotateSupported() bool { return true }

// RotateCounterClockwise returns a copy of the source turned by 90 degrees.
func (g *grey) RotateCounterClockwise() (gozxing.LuminanceSource, error) {
	w, h := g.Width, g.Height
	out := make([]byte, w*h)
	for y := 0; y < h; y++ {
		row := g.pix[(g.top+y)*g.stride+g.left:]
		for x := 0; x < w; x++ {
			// Pixel (x, y) goes to (y, w-1-x) in an image h wide.
			out[(w-1-x)*h+y] = row[x]
		}
	}
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: h, Height: w}, pix: out, stride: h}, nil
}

// RotateCounterClockwise45 is not supported.
func (g *grey) RotateCounterClockwise45() (gozxing.LuminanceSource, error) {
	return nil, errors.New("UnsupportedOperationException: rotation by 45 degrees")
}

// Invert returns the source with black and white swapped.
func (g *grey) Invert() gozxing.LuminanceSource { return gozxing.LuminanceSourceInvert(g) }

func (g *grey) String() string { return gozxing.LuminanceSourceString(g) }
