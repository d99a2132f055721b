package printer

import "testing"

// The renderers run inside POST /api/deposits, before the operation is
// journalled, so they must cost well under a millisecond.

func BenchmarkLabel(b *testing.B) {
	for _, dpi := range []int{203, 300} {
		r, l := Renderer{DPI: dpi}, fixedLabel()
		b.Run(map[int]string{203: "203dpi", 300: "300dpi"}[dpi], func(b *testing.B) {
			var n int
			b.ReportAllocs()
			for b.Loop() {
				zpl, err := r.Label(l)
				if err != nil {
					b.Fatal(err)
				}
				n = len(zpl)
			}
			b.ReportMetric(float64(n), "bytes/label")
		})
	}
}

func BenchmarkReceipt(b *testing.B) {
	for _, paper := range []string{Paper80mm, Paper58mm} {
		r, d := Renderer{Paper: paper, Location: paris}, fixedReceipt()
		b.Run(paper, func(b *testing.B) {
			var n int
			b.ReportAllocs()
			for b.Loop() {
				p, err := r.Receipt(d)
				if err != nil {
					b.Fatal(err)
				}
				n = len(p)
			}
			b.ReportMetric(float64(n), "bytes/receipt")
		})
	}
}

func BenchmarkEscapeField(b *testing.B) {
	s := "Entrepôt ^XZ Retours ~JA Nord_42\n"
	b.ReportAllocs()
	for b.Loop() {
		_ = escapeField(s)
	}
}
