package scanner

import (
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// readQRWarped reads a QR code of version 7 or more on a bent or creased
// surface. gozxing samples the modules through one perspective transform,
// fitted to the three finder patterns and the bottom-right alignment
// pattern; on a curved label the modules between them drift off by half a
// module and the code fails its error correction. This reader finds every
// alignment pattern of the code and samples each cell between four of them
// with a transform of its own.
func readQRWarped(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	img, err := bmp.GetBlackMatrix()
	if err != nil {
		return nil
	}
	det, err := detector.NewDetector(img).Detect(hints)
	if err != nil || len(det.GetPoints()) < 3 {
		return nil
	}
	pts := det.GetPoints()
	dim := det.GetBits().GetWidth()
	ver, err := decoder.Version_GetProvisionalVersionForDimension(dim)
	if err != nil {
		return nil
	}
	centers := ver.GetAlignmentPatternCenters()
	n := len(centers)
	if n < 3 {
		return nil // version 6 or less: one alignment pattern, already used
	}
	bl, tl, tr := pts[0], pts[1], pts[2]
	var al *detector.AlignmentPattern
	if len(pts) > 3 {
		al, _ = pts[3].(*detector.AlignmentPattern)
	}
	global := detector.Detector_createTransform(tl, tr, bl, al, dim)
	moduleSize := gozxing.ResultPoint_Distance(tl, tr) / float64(dim-7)

	// The image position of each alignment pattern's centre, found near
	// where the global transform puts it; the three that would overlap the
	// finder patterns do not exist and keep their predicted place.
	grid := make([][2]float64, n*n)
	for j, cy := range centers {
		for i, cx := range centers {
			p := []float64{float64(cx) + 0.5, float64(cy) + 0.5}
			global.TransformPoints(p)
			grid[j*n+i] = [2]float64{p[0], p[1]}
			if (i == 0 && j == 0) || (i == n-1 && j == 0) || (i == 0 && j == n-1) {
				continue
			}
			if a := findAlignment(img, p[0], p[1], moduleSize); a != nil {
				grid[j*n+i] = [2]float64{a.GetX(), a.GetY()}
			}
		}
	}

	// One transform per cell between four neighbouring centres; modules
	// outside the outer centres use the nearest cell.
	cells := make([]*common.PerspectiveTransform, (n-1)*(n-1))
	for j := 0; j < n-1; j++ {
		for i := 0; i < n-1; i++ {
			x0, x1 := float64(centers[i])+0.5, float64(centers[i+1])+0.5
			y0, y1 := float64(centers[j])+0.5, float64(centers[j+1])+0.5
			a, b, c, d := grid[j*n+i], grid[j*n+i+1], grid[(j+1)*n+i+1], grid[(j+1)*n+i]
			cells[j*(n-1)+i] = common.PerspectiveTransform_QuadrilateralToQuadrilateral(
				x0, y0, x1, y0, x1, y1, x0, y1,
				a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1])
		}
	}
	cell := func(m int) int {
		k := 0
		for k < n-2 && m >= centers[k+1] {
			k++
		}
		return k
	}
	bits, err := gozxing.NewSquareBitMatrix(dim)
	if err != nil {
		return nil
	}
	w, h := img.GetWidth(), img.GetHeight()
	p := make([]float64, 2)
	for y := 0; y < dim; y++ {
		cj := cell(y)
		for x := 0; x < dim; x++ {
			p[0], p[1] = float64(x)+0.5, float64(y)+0.5
			cells[cj*(n-1)+cell(x)].TransformPoints(p)
			px, py := int(p[0]), int(p[1])
			if px < 0 || py < 0 || px >= w || py >= h {
				return nil
			}
			if img.Get(px, py) {
				bits.Set(x, y)
			}
		}
	}
	res, err := decoder.NewDecoder().Decode(bits, hints)
	if err != nil {
		return nil
	}
	return []*gozxing.Result{gozxing.NewResult(res.GetText(), res.GetRawBytes(), pts, gozxing.BarcodeFormat_QR_CODE)}
}

// findAlignment looks for an alignment pattern within a few modules of
// (x, y), nearest first.
func findAlignment(img *gozxing.BitMatrix, x, y, moduleSize float64) *detector.AlignmentPattern {
	for _, f := range []float64{3, 6} {
		r := int(f * moduleSize)
		left, top := max(0, int(x)-r), max(0, int(y)-r)
		right, bottom := min(img.GetWidth()-1, int(x)+r), min(img.GetHeight()-1, int(y)+r)
		if float64(right-left) < 3*moduleSize || float64(bottom-top) < 3*moduleSize {
			return nil
		}
		a, err := detector.NewAlignmentPatternFinder(img, left, top, right-left, bottom-top, moduleSize, nil).Find()
		if err == nil {
			return a
		}
	}
	return nil
}

// readQRResized reads a QR code whose size in modules gozxing misjudges. At
// about 45 degrees the module size it measures across the finder patterns
// is off, the dimension it computes from it is no QR code's or the wrong
// one, and it gives up; this reader tries the plausible versions in turn.
func readQRResized(bmp *gozxing.BinaryBitmap, hints map[gozxing.DecodeHintType]any) []*gozxing.Result {
	img, err := bmp.GetBlackMatrix()
	if err != nil {
		return nil
	}
	info, err := detector.NewFinderPatternFinder(img, nil).Find(hints)
	if err != nil {
		return nil
	}
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	ms := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	if ms < 1 {
		return nil
	}
	span := (gozxing.ResultPoint_Distance(tl, tr) + gozxing.ResultPoint_Distance(tl, bl)) / 2
	// Finder centres are dim-7 modules apart, dim is 17+4*version, and a
	// module measured along the rows of a code turned by 45 degrees looks
	// up to 1.41 times its size: every version whose module size lies in
	// that range is tried.
	for v := 1; v <= 40; v++ {
		if m := span / float64(10+4*v); m < ms/1.5 || m > ms*1.1 {
			continue
		}
		dim := 17 + 4*v
		var al *detector.AlignmentPattern
		if v > 1 {
			// Where gozxing looks for the bottom-right alignment pattern:
			// three modules in from the corner the finders imply.
			c := 1 - 3/float64(dim-7)
			x := tl.GetX() + c*(tr.GetX()-tl.GetX()+bl.GetX()-tl.GetX())
			y := tl.GetY() + c*(tr.GetY()-tl.GetY()+bl.GetY()-tl.GetY())
			al = findAlignment(img, x, y, span/float64(dim-7))
		}
		bits, err := detector.Detector_sampleGrid(img, detector.Detector_createTransform(tl, tr, bl, al, dim), dim)
		if err != nil {
			continue
		}
		if res, err := decoder.NewDecoder().Decode(bits, hints); err == nil {
			pts := []gozxing.ResultPoint{bl, tl, tr}
			return []*gozxing.Result{gozxing.NewResult(res.GetText(), res.GetRawBytes(), pts, gozxing.BarcodeFormat_QR_CODE)}
		}
	}
	return nil
}
