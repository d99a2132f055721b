package printer

import (
	"bytes"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/comptoir/comptoir/edge"
)

// LabelPDF returns a one-page A4 PDF of a ZPL label, for relay points
// that print labels on an office printer: the label's preview at the
// label's resolution, at its real size (4x6 in or 100x150 mm) in the top
// left corner, framed by a thin line to cut along. The PDF is written with
// go-pdf/fpdf. It returns EINVALID for bytes Preview cannot read.
func (r Renderer) LabelPDF(zpl []byte) ([]byte, error) {
	dpi, err := r.dpi()
	if err != nil {
		return nil, err
	}
	png, err := r.Preview(edge.FormatZPL, zpl)
	if err != nil {
		return nil, err
	}
	img := decodeConfig(png)
	w := float64(img.Width) / float64(dpi) * 25.4
	h := float64(img.Height) / float64(dpi) * 25.4

	pdf := fpdf.New("P", "mm", "A4", "")
	// The same label gives the same bytes: fixed dates, sorted catalog.
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetModificationDate(time.Unix(0, 0).UTC())
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("label", opts, bytes.NewReader(png))
	const x, y = 15.0, 15.0
	pdf.ImageOptions("label", x, y, w, h, false, opts, 0, "")
	pdf.SetDrawColor(160, 160, 160)
	pdf.SetLineWidth(0.2)
	pdf.Rect(x, y, w, h, "D")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, edge.Errorf(edge.EINTERNAL, "label PDF: %v", err)
	}
	return buf.Bytes(), nil
}
