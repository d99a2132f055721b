package printer

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/comptoir/comptoir/edge"
)

func TestEscapeField(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "Colis Express 42", "Colis Express 42"},
		{"caret", "^XZ", "_5EXZ"},
		{"tilde", "~JA", "_7EJA"},
		{"indicator", "a_b", "a_5Fb"},
		{"fake escape", "_41", "_5F41"},
		{"injection", "^XZ^XA^FDevil", "_5EXZ_5EXA_5EFDevil"},
		{"newline", "a\nb\r\n", "a_0Ab_0D_0A"},
		{"nul and tab", "\x00\t", "_00_09"},
		{"del", "\x7f", "_7F"},
		{"backslash stays", `C:\dir`, `C:\dir`},
		{"accents stay utf8", "Entrepôt Électroménager €", "Entrepôt Électroménager €"},
		{"invalid utf8", "a\xffb\xc3", "a_FFb_C3"},
		{"c1 control", "a\u0085b", "a_C2_85b"},
		{"bidi override", "\u202eabc", "_E2_80_AEabc"},
		{"comma and quotes", `a,"b"'c'`, `a,"b"'c'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := escapeField(tt.in)
			if got != tt.want {
				t.Fatalf("escapeField(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if back := unhex(t, got, hexIndicator); back != tt.in {
				t.Fatalf("unescape(%q) = %q, want %q", got, back, tt.in)
			}
		})
	}
}

// FuzzEscapeField checks, for any input, that escaped data holds no command
// prefix and no control byte, and unescapes to the input.
func FuzzEscapeField(f *testing.F) {
	for _, s := range maliciousTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := escapeField(s)
		for i := 0; i < len(got); i++ {
			if c := got[i]; c == '^' || c == '~' || c < 0x20 || c == 0x7f {
				t.Fatalf("escapeField(%q) = %q: raw byte %#x at %d", s, got, c, i)
			}
		}
		if !utf8.ValidString(got) {
			t.Fatalf("escapeField(%q) = %q: not valid UTF-8", s, got)
		}
		if back := unhex(t, got, hexIndicator); back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}

// maliciousTexts are short enough not to be cut by the label's layout.
var maliciousTexts = []string{
	"^XZ^XA^FDevil",
	"~JA",
	"~DGR:X.GRF",
	"^XZ~JR^XA",
	"a\nb\r\x00c",
	"_41_5E",
	"100 % _ ~ ^ \\",
	"\x7f\x1b@",
	"\xff\xfe",
	"é € ü ß",
	"\u202eevil",
	"^FS^FO0,0^GB812,1218,8^FS",
	"^CC!",
}

func fixedLabel() edge.Label {
	return edge.Label{
		Carrier:  "Colis Express",
		Tracking: "XY123456789FR",
		Dest: edge.Address{
			Name: "Entrepôt Retours Nord", Street: "12 rue de l'Industrie",
			Postcode: "59000", City: "Lille", Country: "FR",
		},
		RAID: "0193a5b2-7c1e-7d3f-9a4b-2c5d6e7f8a9b",
		Origin: edge.RelayPoint{
			ID: "rp-42", Name: "Tabac Presse du Marché",
			Address: edge.Address{Street: "3 place de la République", Postcode: "75011", City: "Paris", Country: "FR"},
		},
		WeightG: 1234,
		Date:    time.Date(2026, 11, 24, 10, 15, 3, 0, time.UTC),
		Items:   2,
		QR:      "XY123456789FR",
	}
}

// wantFields is what the fields of l's label say, in order, once unescaped.
func wantFields(l edge.Label) []string {
	f := []string{l.Carrier, "Date : " + l.Date.UTC().Format("2006-01-02 15:04") + " UTC", "DE :", l.Origin.Name}
	f = append(f, addressLines(l.Origin.Address, false)...)
	f = append(f, "À :")
	f = append(f, addressLines(l.Dest, true)...)
	f = append(f, l.Tracking, "RA : "+l.RAID, "Poids : "+formatKg(l.WeightG), "Articles : "+strconv.Itoa(l.Items))
	if l.QR != "" {
		f = append(f, l.QR)
	}
	return f
}

func TestLabelRoundTrip(t *testing.T) {
	for _, dpi := range []int{0, 203, 300} {
		t.Run(fmt.Sprint(dpi), func(t *testing.T) {
			l := fixedLabel()
			zpl, err := Renderer{DPI: dpi}.Label(l)
			if err != nil {
				t.Fatal(err)
			}
			got := parseZPL(t, zpl).fields
			if want := wantFields(l); !equal(got, want) {
				t.Fatalf("fields\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestLabelInjection puts ZPL commands, control characters and bad UTF-8 in
// every text field and checks that the label is still one label whose fields
// say exactly that text.
func TestLabelInjection(t *testing.T) {
	for _, evil := range maliciousTexts {
		t.Run(fmt.Sprintf("%q", evil), func(t *testing.T) {
			l := fixedLabel()
			// The QR code carries the text as dots, no ZPL; gozxing reads
			// bytes that are not UTF-8 as Latin-1, so it gets the valid form.
			l.Carrier, l.RAID, l.QR = evil, evil, strings.ToValidUTF8(evil, "?")
			l.Dest = edge.Address{Name: evil, Street: evil, Postcode: evil, City: "X", Country: evil}
			l.Origin.Name, l.Origin.Address = evil, edge.Address{Street: evil, City: evil}
			l.Tracking = "AB1^2~3_4" + strings.Map(func(r rune) rune {
				if r < 0x20 || r > 0x7e || r == '>' {
					return -1
				}
				return r
			}, evil)
			zpl, err := Renderer{}.Label(l)
			if err != nil {
				t.Fatal(err)
			}
			z := parseZPL(t, zpl)
			// The carrier is the one field printed large enough to be cut.
			l.Carrier = truncate(l.Carrier, fitRunes(labelWidth-2*margin, 70))
			if want := wantFields(l); !equal(z.fields, want) {
				t.Fatalf("fields\n got %q\nwant %q", z.fields, want)
			}
			if n := bytes.Count(zpl, []byte("^XA")); n != 1 {
				t.Errorf("%d ^XA, want 1", n)
			}
			if n := bytes.Count(zpl, []byte("^XZ")); n != 1 {
				t.Errorf("%d ^XZ, want 1", n)
			}
			if n := bytes.Count(zpl, []byte("~")); n != 0 {
				t.Errorf("%d ~ in the label, want 0", n)
			}
		})
	}
}

func TestLabelScales(t *testing.T) {
	for _, tt := range []struct {
		dpi        int
		pw, ll, qr string
	}{
		{203, "^PW812", "^LL1218", "^GFA,"},
		{300, "^PW1200", "^LL1800", "^GFA,"},
	} {
		zpl, err := Renderer{DPI: tt.dpi}.Label(fixedLabel())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{tt.pw, tt.ll, tt.qr, "^CI28"} {
			if !bytes.Contains(zpl, []byte(want)) {
				t.Errorf("%d dpi: no %s in\n%s", tt.dpi, want, zpl)
			}
		}
		// Nothing is placed off the label.
		for _, c := range parseZPL(t, zpl).cmds {
			if c.name != "FO" {
				continue
			}
			var x, y int
			fmt.Sscanf(c.params, "%d,%d", &x, &y)
			if x < 0 || y < 0 || x >= tt.dpi*4 || y >= tt.dpi*6 {
				t.Errorf("%d dpi: ^FO%s is off the label", tt.dpi, c.params)
			}
		}
	}
}

func TestLabelErrors(t *testing.T) {
	tests := []struct {
		name string
		r    Renderer
		edit func(*edge.Label)
	}{
		{"dpi", Renderer{DPI: 600}, func(*edge.Label) {}},
		{"no tracking", Renderer{}, func(l *edge.Label) { l.Tracking = "" }},
		{"control in tracking", Renderer{}, func(l *edge.Label) { l.Tracking = "AB\n^XZ" }},
		{"non-ascii tracking", Renderer{}, func(l *edge.Label) { l.Tracking = "ÉTÉ123" }},
		{"long tracking", Renderer{}, func(l *edge.Label) { l.Tracking = strings.Repeat("1", 49) }},
		{"> in tracking", Renderer{}, func(l *edge.Label) { l.Tracking = "AB>1" }},
		{"label size", Renderer{LabelSize: "A6"}, func(*edge.Label) {}},
		{"long QR", Renderer{}, func(l *edge.Label) { l.QR = strings.Repeat("x", 1664) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := fixedLabel()
			tt.edit(&l)
			_, err := tt.r.Label(l)
			if code := edge.ErrorCode(err); code != edge.EINVALID {
				t.Fatalf("error %v (code %q), want code %s", err, code, edge.EINVALID)
			}
		})
	}
}

func TestFormatKg(t *testing.T) {
	for _, tt := range []struct {
		g    int
		want string
	}{
		{0, "0,00 kg"}, {4, "0,00 kg"}, {5, "0,01 kg"}, {1234, "1,23 kg"}, {1235, "1,24 kg"},
		{30000, "30,00 kg"}, {31500, "31,50 kg"}, {-1234, "-1,23 kg"},
	} {
		if got := formatKg(tt.g); got != tt.want {
			t.Errorf("formatKg(%d) = %q, want %q", tt.g, got, tt.want)
		}
	}
}

// TestWeightAgrees: the label and the receipt of one deposit print its
// weight alike, in French ("1,20 kg"), as the kiosk shows it.
func TestWeightAgrees(t *testing.T) {
	l := fixedLabel()
	l.WeightG = 1200
	zpl, err := Renderer{}.Label(l)
	if err != nil {
		t.Fatal(err)
	}
	d := fixedReceipt()
	d.WeightG = 1200
	receipt, err := Renderer{}.Receipt(d)
	if err != nil {
		t.Fatal(err)
	}
	const want = "Poids : 1,20 kg"
	if fields := parseZPL(t, zpl).fields; !slices.Contains(fields, want) {
		t.Errorf("label fields %q, want %q", fields, want)
	}
	if doc := parseESCPOS(t, receipt); !slices.Contains(doc.lines, want) {
		t.Errorf("receipt lines %q, want %q", doc.lines, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
