package printer

import (
	"image"
	"image/color"
	"strconv"
	"strings"
	"testing"
)

// This file holds a small ZPL reader, written for the tests and independent
// of the renderer: it splits a label the way a printer does (a command starts
// at every ^ or ~, whatever comes before) and decodes field data the way ^FH
// says, so the tests can check what a printer would print.

type zplCmd struct {
	prefix byte   // '^' or '~'
	name   string // two letters, upper case
	params string
}

type zplDoc struct {
	cmds []zplCmd
	// fields holds the decoded data of every ^FD: ^FH escapes undone, the
	// >< of ^BC read as >, and the QA, of ^BQ removed; and what gozxing
	// reads in a ^GF graphic's QR code.
	fields []string
	// graphics are the ^GF images, one pixel a dot.
	graphics []*image.Gray
}

// knownZPL lists the commands the renderer may write.
var knownZPL = map[string]bool{
	"XA": true, "XZ": true, "CI": true, "PW": true, "LL": true, "LH": true, "FO": true,
	"A0": true, "FH": true, "FD": true, "FS": true, "GB": true, "GF": true, "BY": true, "BC": true, "BQ": true,
}

// parseZPL reads zpl and fails t unless it is exactly one label made of
// known commands, each ^FD closed by ^FS.
func parseZPL(t testing.TB, zpl []byte) zplDoc {
	t.Helper()
	s := string(zpl)
	var doc zplDoc
	var hex byte
	var barcode string
	for i := 0; i < len(s); {
		c := s[i]
		if c != '^' && c != '~' {
			if strings.TrimSpace(string(c)) != "" {
				t.Fatalf("stray %q at %d outside a command", c, i)
			}
			i++
			continue
		}
		if i+3 > len(s) {
			t.Fatalf("truncated command at %d", i)
		}
		cmd := zplCmd{prefix: c, name: strings.ToUpper(s[i+1 : i+3])}
		j := i + 3
		for j < len(s) && s[j] != '^' && s[j] != '~' {
			j++
		}
		cmd.params = s[i+3 : j]
		if cmd.name != "FD" {
			cmd.params = strings.TrimRight(cmd.params, "\n")
		}
		i = j
		if c == '~' || !knownZPL[cmd.name] {
			t.Fatalf("unexpected command %c%s%s", c, cmd.name, cmd.params)
		}
		doc.cmds = append(doc.cmds, cmd)
		switch cmd.name {
		case "FH":
			if len(cmd.params) != 1 {
				t.Fatalf("^FH%s: want one indicator", cmd.params)
			}
			hex = cmd.params[0]
		case "BC", "BQ":
			barcode = cmd.name
		case "FD":
			data := cmd.params
			if hex != 0 {
				data = unhex(t, data, hex)
			}
			switch barcode {
			case "BC":
				data = strings.ReplaceAll(data, "><", ">")
			case "BQ":
				var ok bool
				if data, ok = strings.CutPrefix(data, "QA,"); !ok {
					t.Fatalf("^BQ data %q without QA,", data)
				}
			}
			doc.fields = append(doc.fields, data)
		case "GF":
			img := gfImage(t, cmd.params)
			doc.graphics = append(doc.graphics, img)
			if _, qr := readCodes(t, img); qr != "" {
				doc.fields = append(doc.fields, qr)
			}
		case "FS":
			hex, barcode = 0, ""
		}
	}
	n := len(doc.cmds)
	if n < 2 || doc.cmds[0].name != "XA" || doc.cmds[n-1].name != "XZ" {
		t.Fatalf("label does not start with ^XA and end with ^XZ")
	}
	for k, cmd := range doc.cmds {
		if (cmd.name == "XA" && k != 0) || (cmd.name == "XZ" && k != n-1) {
			t.Fatalf("^%s at command %d: more than one label", cmd.name, k)
		}
		if cmd.name == "FD" && (k+1 >= n || doc.cmds[k+1].name != "FS") {
			t.Fatalf("^FD%s not closed by ^FS", cmd.params)
		}
	}
	return doc
}

// unhex decodes ^FH data: ind followed by two hex digits is that byte.
func unhex(t testing.TB, s string, ind byte) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != ind {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			t.Fatalf("dangling hex indicator in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			t.Fatalf("bad hex escape in %q: %v", s, err)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String()
}

// gfImage decodes ^GFA parameters as the renderer writes them (hex rows,
// "," ending a row with zeros, ":" repeating the previous row; any other
// byte fails t) into an image with a white border of 16 dots.
func gfImage(t testing.TB, params string) *image.Gray {
	t.Helper()
	p := strings.SplitN(params, ",", 5)
	if len(p) != 5 || p[0] != "A" || p[1] != p[2] {
		t.Fatalf("^GF%.40s: want A,total,total,bytes a row,data", params)
	}
	total, err1 := strconv.Atoi(p[1])
	bpr, err2 := strconv.Atoi(p[3])
	if err1 != nil || err2 != nil || bpr <= 0 || total%bpr != 0 {
		t.Fatalf("^GF%.40s: bad sizes", params)
	}
	var rows [][]byte
	var row []byte
	end := func() {
		for len(row) < bpr {
			row = append(row, 0)
		}
		rows = append(rows, row)
		row = nil
	}
	data := p[4]
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == ',':
			end()
		case c == ':':
			if len(rows) == 0 || len(row) != 0 {
				t.Fatalf("^GF: ':' not at a row's start")
			}
			row = append([]byte(nil), rows[len(rows)-1]...)
			end()
		default:
			if i+1 >= len(data) {
				t.Fatalf("^GF: odd hex digit at the end")
			}
			v, err := strconv.ParseUint(data[i:i+2], 16, 8)
			if err != nil {
				t.Fatalf("^GF: %q at %d: %v", data[i:i+2], i, err)
			}
			row = append(row, byte(v))
			i++
			if len(row) == bpr {
				end()
			}
		}
	}
	if len(row) != 0 || len(rows)*bpr != total {
		t.Fatalf("^GF of %d bytes has %d rows of %d", total, len(rows), bpr)
	}
	const border = 16
	img := image.NewGray(image.Rect(0, 0, bpr*8+2*border, len(rows)+2*border))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y, r := range rows {
		for x := range bpr * 8 {
			if r[x/8]&(0x80>>(x%8)) != 0 {
				img.SetGray(border+x, border+y, color.Gray{})
			}
		}
	}
	return img
}
