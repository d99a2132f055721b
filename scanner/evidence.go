package scanner

import (
	"math/bits"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// readAll reads the QR codes of bmp, then its DataMatrix and Code 128
// symbols. Once a QR code is read, the other two readers, a third of the
// time of a small image, run only where something else could be read:
// the DataMatrix reader only when the image's centre, where it starts
// looking, is not inside the QR code, and the Code 128 reader only when one
// of the rows it scans has enough bars outside the QR codes for a barcode.
// Each reader runs under safely, so that a panic of one loses not the
// others' symbols.
func readAll(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	out := safely(readQR, bmp, hints)
	if len(out) == 0 {
		out = append(out, safely(readDataMatrix, bmp, hints)...)
		return append(out, safely(readCode128, bmp, hints)...)
	}
	var quads []quad
	var modules []float64
	for _, r := range out {
		if q, ok := qrQuad(r); ok {
			quads = append(quads, q)
			modules = append(modules, qrModule(r))
		}
	}
	w, h := float64(bmp.GetWidth()), float64(bmp.GetHeight())
	if !coversPoint(quads, w/2, h/2) {
		out = append(out, safely(readDataMatrix, bmp, hints)...)
	}
	if barsOutside(bmp, hints, quads, modules) {
		out = append(out, safely(readCode128, bmp, hints)...)
	}
	return out
}

// A quad is the four corners of a QR code's finder-pattern centres: top
// left, top right, bottom right (estimated), bottom left.
type quad [4][2]float64

// qrModule returns the largest module size gozxing estimated for the
// finder patterns of a QR code it read, or 0 when its points are not
// finder patterns.
func qrModule(r *gozxing.Result) float64 {
	m := 0.0
	for _, p := range r.GetResultPoints() {
		if f, ok := p.(*detector.FinderPattern); ok {
			m = max(m, f.GetEstimatedModuleSize())
		}
	}
	return m
}

// qrQuad returns the quadrilateral of the finder-pattern centres of a QR
// code read by gozxing (its result points are bottom left, top left, top
// right, then the alignment pattern).
func qrQuad(r *gozxing.Result) (quad, bool) {
	pts := r.GetResultPoints()
	if len(pts) < 3 || pts[0] == nil || pts[1] == nil || pts[2] == nil {
		return quad{}, false
	}
	bl := [2]float64{pts[0].GetX(), pts[0].GetY()}
	tl := [2]float64{pts[1].GetX(), pts[1].GetY()}
	tr := [2]float64{pts[2].GetX(), pts[2].GetY()}
	br := [2]float64{tr[0] + bl[0] - tl[0], tr[1] + bl[1] - tl[1]}
	return quad{tl, tr, br, bl}, true
}

// coversPoint tells whether (x, y) is inside one of the quads. The
// DataMatrix reader grows a white-bordered rectangle from the image's
// centre: when that is inside a QR code, the rectangle holds the QR code
// and the reader cannot find a DataMatrix beside it.
func coversPoint(quads []quad, x, y float64) bool {
	for _, q := range quads {
		in, out := false, false
		for i := range q {
			a, b := q[i], q[(i+1)%4]
			c := (b[0]-a[0])*(y-a[1]) - (b[1]-a[1])*(x-a[0])
			in = in || c > 0
			out = out || c < 0
		}
		if !(in && out) {
			return true
		}
	}
	return false
}

// minBarcodeEdges is the fewest light-dark edges a row crossing a Code 128
// barcode has: start, check and stop characters (19 bars and spaces, bars
// at both ends) between two quiet zones.
const minBarcodeEdges = 20

// A QR code's finder-pattern centres are 3.5 modules in from its edges, so
// its corners at most 3.5*sqrt(2) < qrCornerModules modules from them in
// any direction. When the module size is unknown, qrMargin scales the
// centres about their middle instead: they are 7 modules from it for a
// version 1 code (21 modules), 10.5/7 = 1.5, a little more for perspective.
const (
	qrCornerModules = 5
	qrMargin        = 1.6
)

// barsOutside tells whether one of the rows the Code 128 reader scans
// (without try-harder: 15 rows around the middle, height/32 apart), as the
// reader binarizes it, has at least minBarcodeEdges edges outside the QR
// codes: without that no barcode can be read there. A QR code alone in a
// frame has none; text and textures may, and then the reader runs.
// modules[i] is the module size of quads[i], 0 when unknown.
func barsOutside(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any, quads []quad, modules []float64) bool {
	if _, hard := hints[gozxing.DecodeHintType_TRY_HARDER]; hard {
		return true
	}
	var masks []span
	for i, q := range quads {
		cx := (q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4
		cy := (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4
		scale, pad := qrMargin, 0.0
		if modules[i] > 0 {
			scale, pad = 1, qrCornerModules*modules[i]
		}
		s := span{x0: 1 << 30, y0: 1 << 30, x1: -1 << 30, y1: -1 << 30}
		for _, p := range q {
			x, y := cx+(p[0]-cx)*scale, cy+(p[1]-cy)*scale
			s.x0, s.x1 = min(s.x0, int(x-pad)), max(s.x1, int(x+pad))
			s.y0, s.y1 = min(s.y0, int(y-pad)), max(s.y1, int(y+pad))
		}
		masks = append(masks, s)
	}
	width, height := bmp.GetWidth(), bmp.GetHeight()
	rowStep := max(1, height>>5)
	middle := height / 2
	row := gozxing.NewBitArray(width)
	for i := 0; i < 15; i++ {
		y := middle + rowStep*((i+1)/2)
		if i&1 != 0 {
			y = middle - rowStep*((i+1)/2)
		}
		if y < 0 || y >= height {
			break
		}
		if !roomForBarcode(masks, y, width) {
			continue // no need to binarize the row
		}
		var err error
		if row, err = bmp.GetBlackRow(y, row); err != nil {
			continue
		}
		words := row.GetBitArray()
		for _, m := range masks {
			if y >= m.y0 && y <= m.y1 {
				clearBits(words, max(0, m.x0), min(width, m.x1+1))
			}
		}
		if edges(words, width) >= minBarcodeEdges {
			return true
		}
	}
	return false
}

// A span is a rectangle, bounds included.
type span struct{ x0, x1, y0, y1 int }

// minBarcodeWidth is the narrowest a Code 128 barcode can be, in pixels:
// start, check and stop characters are 35 modules, of a pixel at least.
const minBarcodeWidth = 35

// roomForBarcode tells whether row y, outside the spans of masks that
// cross it, has minBarcodeWidth pixels in a row.
func roomForBarcode(masks []span, y, width int) bool {
	x := 0 // first pixel not known to be masked
	for x < width {
		next := width // where the next mask at or after x starts
		moved := false
		for _, m := range masks {
			if y < m.y0 || y > m.y1 || m.x1 < x {
				continue
			}
			if m.x0 <= x {
				x, moved = m.x1+1, true
			} else {
				next = min(next, m.x0)
			}
		}
		if moved {
			continue
		}
		if next-x >= minBarcodeWidth {
			return true
		}
		x = next
	}
	return false
}

// clearBits clears bits [from, to) of words.
func clearBits(words []uint32, from, to int) {
	for x := from; x < to; {
		if x&31 == 0 && to-x >= 32 {
			words[x>>5] = 0
			x += 32
			continue
		}
		words[x>>5] &^= 1 << (x & 31)
		x++
	}
}

// edges counts the changes between neighbouring bits of the first n bits
// of words, counting a set first or last bit as an edge too (the row is
// taken as light beyond its ends).
func edges(words []uint32, n int) int {
	count := 0
	carry := uint32(0) // the bit before this word
	for i, w := range words {
		if 32*i >= n {
			break
		}
		if rem := n - 32*i; rem < 32 {
			w &= 1<<rem - 1
		}
		count += bits.OnesCount32(w ^ (w<<1 | carry))
		carry = w >> 31
	}
	if n&31 == 0 {
		count += int(carry) // dark to the row's end (else counted above)
	}
	return count
}
