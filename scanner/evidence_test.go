package scanner

import (
	"testing"

	"github.com/makiuchi-d/gozxing"
)

func TestEdges(t *testing.T) {
	for _, tt := range []struct {
		set  []int
		n    int
		want int
	}{
		{nil, 100, 0},
		{[]int{0}, 100, 2},
		{[]int{99}, 100, 2},
		{[]int{31, 32}, 100, 2},
		{[]int{30, 32, 34}, 40, 6},
		{[]int{33, 34}, 34, 2}, // bit 34 is beyond n
		{[]int{63}, 64, 2},
	} {
		row := gozxing.NewBitArray(128)
		for _, i := range tt.set {
			row.Set(i)
		}
		if got := edges(row.GetBitArray(), tt.n); got != tt.want {
			t.Errorf("edges(%v, %d) = %d, want %d", tt.set, tt.n, got, tt.want)
		}
	}
}

func TestClearBits(t *testing.T) {
	row := gozxing.NewBitArray(128)
	row.SetRange(0, 128)
	clearBits(row.GetBitArray(), 5, 100)
	for i := 0; i < 128; i++ {
		if want := i < 5 || i >= 100; row.Get(i) != want {
			t.Fatalf("bit %d = %v, want %v", i, row.Get(i), want)
		}
	}
}

func TestCoversPoint(t *testing.T) {
	q := quad{{10, 10}, {50, 10}, {50, 50}, {10, 50}}
	turned := quad{{30, 0}, {60, 30}, {30, 60}, {0, 30}}
	for _, tt := range []struct {
		q    quad
		x, y float64
		want bool
	}{{q, 30, 30, true}, {q, 5, 30, false}, {q, 30, 55, false}, {turned, 30, 30, true}, {turned, 5, 5, false}, {turned, 55, 55, false}} {
		for _, qq := range []quad{tt.q, {tt.q[3], tt.q[2], tt.q[1], tt.q[0]}} { // either winding
			if got := coversPoint([]quad{qq}, tt.x, tt.y); got != tt.want {
				t.Errorf("coversPoint(%v, %v, %v) = %v", qq, tt.x, tt.y, got)
			}
		}
	}
}

func TestRoomForBarcode(t *testing.T) {
	masks := []span{{x0: 10, x1: 60, y0: 0, y1: 100}, {x0: 50, x1: 80, y0: 50, y1: 100}}
	for _, tt := range []struct {
		y, width int
		want     bool
	}{
		{200, 35, true},  // no mask crosses the row
		{200, 34, false}, // too narrow a frame
		{20, 95, false},  // 10 left, 34 right of the mask
		{20, 96, true},   // 35 right of it
		{70, 115, false}, // masks overlap: 10 left, 34 right
		{70, 116, true},
		{20, 70, false},
	} {
		if got := roomForBarcode(masks, tt.y, tt.width); got != tt.want {
			t.Errorf("roomForBarcode(y=%d, width=%d) = %v", tt.y, tt.width, got)
		}
	}
}
