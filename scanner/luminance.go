package scanner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"

	"github.com/makiuchi-d/gozxing"
)

// grey is a gozxing.LuminanceSource over a buffer of 8-bit luminances. It is
// built straight from the pixel arrays of the usual decoded image types: the
// Y plane of a JPEG, the bytes of a grey PNG, the samples of an RGB(A) one,
// instead of gozxing's image.At per pixel, which costs most of a decode.
type grey struct {
	gozxing.LuminanceSourceBase
	pix       []byte
	stride    int  // bytes from one row of pix to the next
	left, top int  // origin of this (cropped) view in pix
	pooled    bool // pix is from pixPool (see release)
}

var _ gozxing.LuminanceSource = (*grey)(nil)

// lumaWeights weigh red, green and blue into a luminance:
// (r*R + g*G + b*B + round) >> 10.
type lumaWeights struct{ r, g, b, round int }

// lumaEven is gozxing's (R+2G+B)/4. It reads more of the corpus's phone
// photos than Java ZXing's BT.601 weights (qrcode-1: 19/20 against 17/20),
// and a second pass with those reads nothing more once the cascade has its
// global-threshold and upscaled steps (TestCascadeSteps).
var lumaEven = lumaWeights{256, 512, 256, 0}

func (w lumaWeights) luma(r, g, b uint8) uint8 {
	return uint8((w.r*int(r) + w.g*int(g) + w.b*int(b) + w.round) >> 10)
}

// newGrey returns a luminance source holding the luminances of img, colours
// weighed by w.
func newGrey(img image.Image, w lumaWeights) *grey {
	b := img.Bounds()
	wd, h := b.Dx(), b.Dy()
	// A JPEG's Y plane or a grey PNG whose rows follow each other is the
	// luminance buffer itself: no copy. The source only reads it.
	switch m := img.(type) {
	case *image.YCbCr:
		if m.YStride == wd && m.Rect == b {
			return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: wd, Height: h}, pix: m.Y[:wd*h], stride: wd}
		}
	case *image.Gray:
		if m.Stride == wd && m.Rect == b {
			return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: wd, Height: h}, pix: m.Pix[:wd*h], stride: wd}
		}
	}
	pix := getPix(wd * h)
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
			off := m.PixOffset(b.Min.X, b.Min.Y+y)
			w.rows(pix[y*wd:(y+1)*wd], m.Pix[off:off+4*wd], false)
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			off := m.PixOffset(b.Min.X, b.Min.Y+y)
			w.rows(pix[y*wd:(y+1)*wd], m.Pix[off:off+4*wd], true)
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
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: wd, Height: h}, pix: pix, stride: wd, pooled: true}
}

// pixPool holds luminance buffers between decodes: a frame's buffer is as
// large as the frame (300 kB at 640x480), and a fresh one is zeroed and
// collected at every frame.
var pixPool sync.Pool // of *[]byte

// getPix returns a buffer of n bytes from pixPool, or a new one.
func getPix(n int) []byte {
	if p, ok := pixPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

// release gives the buffer of g, when newGrey took it from pixPool, back to
// the pool. Neither g nor any view of it may be used after.
func (g *grey) release() {
	if g.pooled {
		p := g.pix[:0]
		g.pix, g.pooled = nil, false
		pixPool.Put(&p)
	}
}

// rows weighs the RGBA samples of src into out, composed over white; the
// samples are alpha-premultiplied when pre is set. Opaque pixels, nearly
// all of a camera's or a screenshot's, take the short way.
func (w lumaWeights) rows(out, src []byte, pre bool) {
	src = src[:4*len(out)]
	if w == lumaEven {
		// (R+2G+B)/4 of four opaque pixels at once, two to a uint64 in
		// 16-bit lanes: R+B and G of each pixel, then R+2G+B.
		const opaque = 0xff000000_ff000000
		for len(out) >= 4 && len(src) >= 16 {
			p := binary.LittleEndian.Uint64(src[0:8])
			q := binary.LittleEndian.Uint64(src[8:16])
			if p&q&opaque != opaque {
				break // the pixel-by-pixel loop below composes alpha
			}
			rb, rb2 := p&0x00ff00ff_00ff00ff, q&0x00ff00ff_00ff00ff
			l := (rb + rb>>16 + (p>>7)&0x000001fe_000001fe) >> 2
			m := (rb2 + rb2>>16 + (q>>7)&0x000001fe_000001fe) >> 2
			binary.LittleEndian.PutUint32(out[0:4], uint32(l&0xff|l>>24&0xff00|m<<16&0xff0000|m>>8&0xff000000))
			out, src = out[4:], src[16:]
		}
		i := 0
		// (R+2G+B)/4, one load a pixel.
		for ; i < len(out); i++ {
			p := binary.LittleEndian.Uint32(src[4*i:])
			l := (p&0xff + p>>7&0x1fe + p>>16&0xff) >> 2
			if a := p >> 24; a != 0xff {
				if pre {
					l = min(255, l+255-a)
				} else {
					l = uint32(overWhite(byte(l), byte(a)))
				}
			}
			out[i] = byte(l)
		}
		return
	}
	wr, wg, wb, round := w.r, w.g, w.b, w.round
	for i := range out {
		p := src[4*i : 4*i+4 : 4*i+4]
		l := (wr*int(p[0]) + wg*int(p[1]) + wb*int(p[2]) + round) >> 10
		if a := p[3]; a != 0xff {
			if pre {
				// Premultiplied: composing over white adds the missing white.
				l = min(255, l+255-int(a))
			} else {
				l = int(overWhite(byte(l), a))
			}
		}
		out[i] = byte(l)
	}
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

// at returns the luminance at (x, y) of the source, clamped to its edges.
func (g *grey) at(x, y int) int {
	x = min(max(x, 0), g.Width-1)
	y = min(max(y, 0), g.Height-1)
	return int(g.pix[(g.top+y)*g.stride+g.left+x])
}

// upscale2 returns the source at twice its size, interpolated bilinearly:
// modules of 2 to 3 pixels become 4 to 6, which the finder-pattern search
// and the grid sampling place better.
func (g *grey) upscale2() *grey {
	w, h := 2*g.Width, 2*g.Height
	pix := make([]byte, w*h)
	for y := 0; y < h; y++ {
		// Output pixel centre y+0.5 maps to source (y+0.5)/2-0.5: between
		// source rows y0 and y0+1 at a quarter or three quarters.
		y0, fy := (y-1)>>1, 1+2*((y+1)&1) // weights of row y0+1 in quarters: 3 or 1
		for x := 0; x < w; x++ {
			x0, fx := (x-1)>>1, 1+2*((x+1)&1)
			a, b := g.at(x0, y0), g.at(x0+1, y0)
			c, d := g.at(x0, y0+1), g.at(x0+1, y0+1)
			top := a*(4-fx) + b*fx
			bot := c*(4-fx) + d*fx
			pix[y*w+x] = byte((top*(4-fy) + bot*fy + 8) >> 4)
		}
	}
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: w, Height: h}, pix: pix, stride: w}
}

// rotate45 returns the source turned by 45 degrees about its centre, on a
// canvas large enough to hold all of it; the corners repeat the edges.
func (g *grey) rotate45() *grey {
	const c = 0.70710678 // cos 45 = sin 45
	w, h := g.Width, g.Height
	side := int(float64(w+h)*c) + 1
	pix := make([]byte, side*side)
	cx, cy, oc := float64(w)/2, float64(h)/2, float64(side)/2
	for y := 0; y < side; y++ {
		dy := float64(y) + 0.5 - oc
		for x := 0; x < side; x++ {
			dx := float64(x) + 0.5 - oc
			// Inverse rotation: source = R(-45) * (dx, dy).
			sx := c*(dx+dy) + cx
			sy := c*(dy-dx) + cy
			pix[y*side+x] = byte(g.at(int(sx), int(sy)))
		}
	}
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: side, Height: side}, pix: pix, stride: side}
}

// half returns the source at half its size, each pixel the mean of four.
func (g *grey) half() *grey {
	w, h := g.Width/2, g.Height/2
	pix := make([]byte, w*h)
	for y := 0; y < h; y++ {
		r0 := g.pix[(g.top+2*y)*g.stride+g.left:][: 2*w : 2*w]
		r1 := g.pix[(g.top+2*y+1)*g.stride+g.left:][: 2*w : 2*w]
		out := pix[y*w : (y+1)*w : (y+1)*w]
		for x := range out {
			out[x] = byte((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) >> 2)
		}
	}
	return &grey{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: w, Height: h}, pix: pix, stride: w}
}
