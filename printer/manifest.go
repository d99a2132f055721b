package printer

import (
	"strconv"

	"github.com/comptoir/comptoir/edge"
)

// Manifest returns the ESC/POS bytes of a handover manifest for the
// receipt printer: the relay point, the carrier, the date, the driver, the
// count and every tracking number, the manifest id as a Code 128 barcode
// with its human-readable line, and a space for the driver's signature.
// It prints on the receipt printer because its paper roll holds a manifest
// of any length, where a 4x6 in label holds about twenty lines.
//
// A manifest id too long for a Code 128 barcode on the paper (a UUID in
// code set B needs 431 modules: one-dot modules on 80 mm paper, more than
// 58 mm paper holds) is printed as a QR code instead, with the same
// human-readable line; one whose bars would be one dot wide gets both. It returns EINVALID for unsupported paper or a
// manifest id that is not printable ASCII of at most 48 characters.
// Tracking numbers are printed as text, stripped of control bytes.
func (r Renderer) Manifest(m edge.ManifestDoc) ([]byte, error) {
	cols, err := r.columns()
	if err != nil {
		return nil, err
	}
	if err := checkTracking(m.ManifestID); err != nil {
		return nil, edge.Errorf(edge.EINVALID, "manifest id: %v", edge.ErrorMessage(err))
	}
	data := code128Sets(m.ManifestID)
	module := code128Module(code128Modules(data), cols)

	p := escpos{cols: cols, b: make([]byte, 0, 1024+len(m.Trackings)*(cols+1))}
	p.cmd(esc, '@')
	p.cmd(esc, 't', 19)

	p.cmd(esc, 'a', 1)
	p.cmd(esc, 'E', 1)
	p.wrapped("BORDEREAU DE REMISE", cols)
	p.cmd(esc, 'E', 0)
	p.wrapped(m.RelayPoint.Name, cols)
	for _, s := range addressLines(m.RelayPoint.Address, false) {
		p.wrapped(s, cols)
	}
	p.rule()

	p.cmd(esc, 'a', 0)
	p.wrapped("Transporteur : "+m.Carrier, cols)
	p.wrapped("Date : "+m.At.In(r.location()).Format("02/01/2006 15:04"), cols)
	if m.DriverRef != "" {
		p.wrapped("Chauffeur : "+m.DriverRef, cols)
	}
	if m.Operator != "" {
		p.wrapped("Remis par : "+m.Operator, cols)
	}
	p.cmd(esc, 'E', 1)
	p.wrapped("Colis : "+strconv.Itoa(len(m.Trackings)), cols)
	p.cmd(esc, 'E', 0)
	p.rule()
	for i, trk := range m.Trackings {
		p.fact(strconv.Itoa(i+1)+". ", trk)
	}
	p.rule()

	p.cmd(esc, 'a', 1)
	if module > 0 {
		p.code128(data, module)
	}
	if module < 2 {
		// One-dot bars (0.125 mm) are thinner than many scanners read
		// off thermal paper: add a QR code, which any imager reads.
		p.cmd(lf)
		if err := p.qr(m.ManifestID, 4); err != nil {
			return nil, err
		}
		p.cmd(lf)
		if module == 0 {
			p.wrapped(m.ManifestID, cols)
		}
	}
	p.cmd(lf)
	p.cmd(esc, 'a', 0)
	p.wrapped("Signature du chauffeur :", cols)
	p.cmd(lf, lf, lf)
	p.rule()
	p.cmd(lf, lf)
	p.cmd(gs, 'V', 66, 0)
	return p.b, nil
}

// code128 prints data (GS k function 73 data: code set selections and
// characters) as a Code 128 barcode 80 dots high, with modules of module
// dots and the human-readable text under it in font A.
func (p *escpos) code128(data []byte, module byte) {
	p.cmd(gs, 'h', 80)
	p.cmd(gs, 'w', module)
	p.cmd(gs, 'H', 2)
	p.cmd(gs, 'f', 0)
	p.cmd(gs, 'k', 73, byte(len(data)))
	p.b = append(p.b, data...)
}

// code128Sets returns s as data for ESC/POS GS k function 73: runs of four
// or more digits in code set C (two digits a symbol, sent as one byte of
// value 0 to 99), the rest in code set B, and '{' doubled as the standard
// asks. s must be printable ASCII (checkTracking).
func code128Sets(s string) []byte {
	b := make([]byte, 0, len(s)+8)
	set := byte(0)
	for i := 0; i < len(s); {
		run := 0
		for i+run < len(s) && '0' <= s[i+run] && s[i+run] <= '9' {
			run++
		}
		if run >= 4 {
			if run%2 == 1 {
				// The odd digit goes in code set B first, so the rest
				// pairs up.
				if set != 'B' {
					b, set = append(b, '{', 'B'), 'B'
				}
				b = append(b, s[i])
				i++
				run--
			}
			if set != 'C' {
				b, set = append(b, '{', 'C'), 'C'
			}
			for ; run > 0; run -= 2 {
				b = append(b, (s[i]-'0')*10+s[i+1]-'0')
				i += 2
			}
			continue
		}
		if set != 'B' {
			b, set = append(b, '{', 'B'), 'B'
		}
		if s[i] == '{' {
			b = append(b, '{')
		}
		b = append(b, s[i])
		i++
	}
	return b
}

// code128Modules returns the width in modules of the barcode of data from
// code128Sets: 11 a symbol (the start, each code set change after it, each
// character or digit pair, the check), 13 for the stop.
func code128Modules(data []byte) int {
	symbols := 0
	for i := 0; i < len(data); i++ {
		if data[i] == '{' {
			i++ // a code set change, or a doubled '{' that is one symbol
		}
		symbols++
	}
	return 11*(symbols+1) + 13
}

// code128Module returns the widest module, up to 3 dots, with which a
// barcode of modules modules and its 10-module quiet zones fit the
// printable width of the paper (576 dots for 48 columns, 384 for 32); 0
// when none does.
func code128Module(modules, cols int) byte {
	dots := 576
	if cols < 48 {
		dots = 384
	}
	return byte(min(dots/(modules+20), 3))
}

// code128Text returns the text that GS k function 73 data encodes.
func code128Text(data []byte) string {
	out := make([]byte, 0, len(data)*2)
	set := byte('B')
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '{' && i+1 < len(data) {
			i++
			switch data[i] {
			case 'A', 'B', 'C':
				set = data[i]
			case '{':
				out = append(out, '{')
			}
			continue
		}
		if set == 'C' {
			out = append(out, '0'+c/10, '0'+c%10)
		} else {
			out = append(out, c)
		}
	}
	return string(out)
}
