package scanner

import (
	"github.com/makiuchi-d/gozxing"
)

// hybrid is gozxing's HybridBinarizer (local thresholds over 8x8 blocks,
// each the average of the 5x5 blocks around it) computed without a method
// call per pixel: the same matrix at about a third of the cost. Rows, for
// the 1D readers, come from the global histogram as in gozxing.
type hybrid struct {
	*gozxing.GlobalHistogramBinarizer
	matrix *gozxing.BitMatrix
}

func newHybrid(src gozxing.LuminanceSource) gozxing.Binarizer {
	return &hybrid{GlobalHistogramBinarizer: gozxing.NewGlobalHistgramBinarizer(src).(*gozxing.GlobalHistogramBinarizer)}
}

// CreateBinarizer returns a binarizer of the same kind over src.
func (h *hybrid) CreateBinarizer(src gozxing.LuminanceSource) gozxing.Binarizer {
	return newHybrid(src)
}

const (
	blockPower = 3
	blockSize  = 1 << blockPower
	minDynamic = 24
)

// GetBlackMatrix returns the thresholded image.
func (h *hybrid) GetBlackMatrix() (*gozxing.BitMatrix, error) {
	if h.matrix != nil {
		return h.matrix, nil
	}
	src := h.GetLuminanceSource()
	w, ht := src.GetWidth(), src.GetHeight()
	if w < 5*blockSize || ht < 5*blockSize {
		m, err := h.GlobalHistogramBinarizer.GetBlackMatrix()
		h.matrix = m
		return m, err
	}
	lum := src.GetMatrix()
	subW, subH := (w+blockSize-1)>>blockPower, (ht+blockSize-1)>>blockPower
	bp := blackPoints(lum, subW, subH, w, ht)

	// The rows' bits, 32 pixels a word. The last block of a row or column
	// overlaps the one before; as in gozxing, a pixel is black when either
	// block says so.
	rowWords := (w + 31) >> 5
	words := make([]uint32, rowWords*ht)
	maxY, maxX := ht-blockSize, w-blockSize
	for y := 0; y < subH; y++ {
		yo := min(y<<blockPower, maxY)
		top := min(max(y, 2), subH-3)
		for x := 0; x < subW; x++ {
			xo := min(x<<blockPower, maxX)
			left := min(max(x, 2), subW-3)
			sum := 0
			for z := -2; z <= 2; z++ {
				r := bp[(top+z)*subW+left-2 : (top+z)*subW+left+3]
				sum += r[0] + r[1] + r[2] + r[3] + r[4]
			}
			t := sum / 25
			sh := uint(xo & 31)
			for yy := yo; yy < yo+blockSize; yy++ {
				l := lum[yy*w+xo : yy*w+xo+blockSize]
				var mask uint32
				for i, p := range l {
					if int(p) <= t {
						mask |= 1 << i
					}
				}
				k := yy*rowWords + xo>>5
				words[k] |= mask << sh
				if sh > 32-blockSize {
					words[k+1] |= mask >> (32 - sh)
				}
			}
		}
	}
	m, err := gozxing.NewBitMatrix(w, ht)
	if err != nil {
		return nil, err
	}
	bits := gozxing.NewBitArray(w)
	for y := 0; y < ht; y++ {
		bits.Clear()
		for k, word := range words[y*rowWords : (y+1)*rowWords] {
			if word != 0 {
				bits.SetBulk(k<<5, word)
			}
		}
		m.SetRow(y, bits)
	}
	h.matrix = m
	return m, nil
}

// blackPoints returns the black point of each 8x8 block, row by row, as
// gozxing's HybridBinarizer computes them.
func blackPoints(lum []byte, subW, subH, w, h int) []int {
	bp := make([]int, subW*subH)
	maxY, maxX := h-blockSize, w-blockSize
	for y := 0; y < subH; y++ {
		yo := min(y<<blockPower, maxY)
		for x := 0; x < subW; x++ {
			xo := min(x<<blockPower, maxX)
			sum, lo, hi := 0, 0xff, 0
			for yy := 0; yy < blockSize; yy++ {
				row := lum[(yo+yy)*w+xo : (yo+yy)*w+xo+blockSize]
				for _, p := range row {
					sum += int(p)
					lo = min(lo, int(p))
					hi = max(hi, int(p))
				}
			}
			avg := sum >> (2 * blockPower)
			if hi-lo <= minDynamic {
				avg = lo / 2
				if y > 0 && x > 0 {
					n := (bp[(y-1)*subW+x] + 2*bp[y*subW+x-1] + bp[(y-1)*subW+x-1]) / 4
					if lo < n {
						avg = n
					}
				}
			}
			bp[y*subW+x] = avg
		}
	}
	return bp
}
