// Package printer turns the counter's documents into printer bytes and sends
// them to printers.
//
// Renderer writes carrier labels in ZPL II (4x6 in, 203 or 300 dpi) and
// proof-of-deposit receipts in ESC/POS (58 or 80 mm paper). Every piece of text
// that comes from a code or from configuration is escaped so that it prints as
// text and can never become a printer command. Open picks a transport from a
// URL: a spool directory, a raw TCP port, a USB printer device, a CUPS queue,
// or nothing.
package printer

import (
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Supported resolutions and paper widths.
const (
	DPI203 = 203
	DPI300 = 300

	Paper80mm = "80mm"
	Paper58mm = "58mm"

	// Label sizes: 4x6 in (101.6 x 152.4 mm, the default) and the metric
	// 100x150 mm of European carriers.
	Label4x6in     = "4x6in"
	Label100x150mm = "100x150mm"
)

// Renderer renders labels and receipts. The zero value renders 203 dpi labels
// and 80 mm receipts with times in the local time zone.
type Renderer struct {
	// DPI is the label printer's resolution: 203 (default) or 300.
	DPI int `json:"label_dpi,omitempty"`
	// Paper is the receipt paper width: "80mm" (default) or "58mm".
	Paper string `json:"receipt_paper,omitempty"`
	// LabelSize is "4x6in" (default) or "100x150mm".
	LabelSize string `json:"label_size,omitempty"`
	// Location is the time zone of the receipt's date; nil means time.Local.
	// Labels always show UTC.
	Location *time.Location `json:"-"`
}

// Validate returns an EINVALID error naming the first setting that is not
// supported, so that a terminal refuses to start rather than fail its
// deposits.
func (r Renderer) Validate() error {
	if _, err := r.dpi(); err != nil {
		return err
	}
	if _, _, err := r.labelSize(); err != nil {
		return err
	}
	_, err := r.columns()
	return err
}

var _ edge.Renderer = Renderer{}

// dpi returns the label resolution, or an EINVALID error.
func (r Renderer) dpi() (int, error) {
	switch r.DPI {
	case 0, DPI203:
		return DPI203, nil
	case DPI300:
		return DPI300, nil
	}
	return 0, edge.Errorf(edge.EINVALID, "label printer resolution %d dpi is not supported (203 or 300)", r.DPI)
}

// labelSize returns the label's width and height in dots at 203 dpi, or an
// EINVALID error.
func (r Renderer) labelSize() (w, h int, err error) {
	switch r.LabelSize {
	case "", Label4x6in:
		return labelWidth, labelHeight, nil
	case Label100x150mm:
		return 799, 1199, nil // 100 x 150 mm at 8 dots/mm (203 dpi)
	}
	return 0, 0, edge.Errorf(edge.EINVALID, "label size %q is not supported (4x6in or 100x150mm)", r.LabelSize)
}

// columns returns the receipt's characters per line in font A, or an
// EINVALID error.
func (r Renderer) columns() (int, error) {
	switch r.Paper {
	case "", Paper80mm:
		return 48, nil
	case Paper58mm:
		return 32, nil
	}
	return 0, edge.Errorf(edge.EINVALID, "receipt paper %q is not supported (80mm or 58mm)", r.Paper)
}

func (r Renderer) location() *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.Local
}
