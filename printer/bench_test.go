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

// Previews are drawn on request (GET .../preview.png), never inside a
// deposit; the ZPL preview is our own reading of the bytes, so compare it
// with drawing the same label's barcodes alone.

func BenchmarkPreview(b *testing.B) {
	label, _ := Renderer{}.Label(fixedLabel())
	receipt, _ := Renderer{Location: paris}.Receipt(fixedReceipt())
	manifest, _ := Renderer{Location: paris}.Manifest(fixedManifest())
	for _, tt := range []struct {
		name, format string
		data         []byte
	}{{"label", "zpl", label}, {"receipt", "escpos", receipt}, {"manifest", "escpos", manifest}} {
		b.Run(tt.name, func(b *testing.B) {
			var n int
			b.ReportAllocs()
			for b.Loop() {
				png, err := Renderer{}.Preview(tt.format, tt.data)
				if err != nil {
					b.Fatal(err)
				}
				n = len(png)
			}
			b.ReportMetric(float64(n), "bytes/png")
		})
	}
}

func BenchmarkLabelPDF(b *testing.B) {
	label, _ := Renderer{}.Label(fixedLabel())
	var n int
	b.ReportAllocs()
	for b.Loop() {
		pdf, err := Renderer{}.LabelPDF(label)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pdf)
	}
	b.ReportMetric(float64(n), "bytes/pdf")
}

func BenchmarkManifest(b *testing.B) {
	r, m := Renderer{Location: paris}, fixedManifest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Manifest(m); err != nil {
			b.Fatal(err)
		}
	}
}
