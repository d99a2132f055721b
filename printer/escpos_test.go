package printer

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/comptoir/comptoir/edge"
)

func TestCP858(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"é à ç € ü", []byte{0x82, ' ', 0x85, ' ', 0x87, ' ', 0xD5, ' ', 0x81}},
		{"reçu dépôt", []byte{'r', 'e', 0x87, 'u', ' ', 'd', 0x82, 'p', 0x93, 't'}},
		{"ÉÈÀÇÔ", []byte{0x90, 0xD4, 0xB7, 0x80, 0xE2}},
		{"a\x1b@b\x1dV\x00c", []byte("a@bVc")},
		{"a\nb\tc", []byte("a b c")},
		{"\x7f\u0085x", []byte("x")},
		{"Cœur – «ok» …", []byte{'C', 'o', 'e', 'u', 'r', ' ', '-', ' ', 0xAE, 'o', 'k', 0xAF, ' ', '.', '.', '.'}},
		{"e\u0301", []byte("e")},
		{"日本 ı", []byte("?? ?")},
		{"\xff", []byte("?")},
	}
	for _, tt := range tests {
		if got := appendCP858(nil, tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("appendCP858(%q) = % x, want % x", tt.in, got, tt.want)
		}
	}
}

// TestCP858Table checks that every rune of the code page's upper half is
// printed as its byte.
func TestCP858Table(t *testing.T) {
	for i := 0x80; i < 0x100; i++ {
		r := charmap.CodePage858.DecodeByte(byte(i))
		if got := appendCP858(nil, string(r)); !bytes.Equal(got, []byte{byte(i)}) {
			t.Errorf("%U: got % x, want %02x", r, got, i)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"", 10, ""},
		{"short", 10, "short\n"},
		{"exactly ten", 11, "exactly ten\n"},
		{"one two three four", 9, "one two\nthree\nfour\n"},
		{"abcdefghijkl", 5, "abcde\nfghij\nkl\n"},
		{"  spaced   out  ", 6, "spaced\nout\n"},
	}
	for _, tt := range tests {
		if got := string(appendWrapped(nil, []byte(tt.in), tt.width)); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

// TestReceiptQRRaster: the QR code goes to the printer as a GS v 0 image
// of our encoder's code, as wide as the paper, not as the printer's QR
// function (GS ( k), whose mask the printer chooses; read back, it gives
// the token.
func TestReceiptQRRaster(t *testing.T) {
	token := strings.Repeat("A", 300)
	for _, cols := range []int{48, 32} {
		p := escpos{cols: cols}
		if err := p.qr(token, 6); err != nil {
			t.Fatal(err)
		}
		bpr := paperDots(cols) / 8
		if !bytes.HasPrefix(p.b, []byte{gs, 'v', '0', 0, byte(bpr), 0}) {
			t.Fatalf("%d columns: starts % x, want GS v 0 0 %d 0", cols, p.b[:6], bpr)
		}
		doc := parseESCPOS(t, p.b)
		if doc.count("GS ( k") != 0 || doc.count("GS v 0") != 1 {
			t.Errorf("%d columns: commands %q, want one GS v 0", cols, doc.cmds)
		}
		if qr := doc.qrTexts(t); len(qr) != 1 || qr[0] != token {
			t.Fatalf("%d columns: read QR %q, want the token", cols, qr)
		}
	}
}

func fixedReceipt() edge.ReceiptDoc {
	l := fixedLabel()
	return edge.ReceiptDoc{
		RelayPoint: l.Origin, At: l.Date, Tracking: l.Tracking, RAID: l.RAID, WeightG: 1234,
		Token: fixedToken,
	}
}

// fixedToken has the shape and size of a real receipt token.
var fixedToken = "eyJhbGciOiJFZERTQSIsImtpZCI6InRlcm0tMDEiLCJ0eXAiOiJjb21wdG9pci1yZWNlaXB0K2p3dCJ9." +
	strings.Repeat("eyJyaWQiOiIwMTkzYTViMi03YzFlIiwidHJrIjoiWFkxMjM0NTY3ODlGUiJ9", 3) + "." +
	strings.Repeat("c2lnbmF0dXJl", 7)

var paris = time.FixedZone("CET", 3600)

func TestReceiptContent(t *testing.T) {
	for _, paper := range []string{"", Paper80mm, Paper58mm} {
		t.Run(paper, func(t *testing.T) {
			d := fixedReceipt()
			b, err := Renderer{Paper: paper, Location: paris}.Receipt(d)
			if err != nil {
				t.Fatal(err)
			}
			cols := 48
			if paper == Paper58mm {
				cols = 32
			}
			doc := parseESCPOS(t, b)
			doc.checkWidth(t, cols)
			// Lines are wrapped at spaces, and a word longer than a line
			// (the RA id on 58 mm paper) is cut.
			text, flat := strings.Join(doc.lines, " "), strings.ReplaceAll(strings.Join(doc.lines, ""), " ", "")
			for _, want := range []string{
				"Tabac Presse du Marché", "3 place de la République", "75011 Paris",
				"PREUVE DE DÉPÔT", "Date : 24/11/2026 11:15", "Suivi : XY123456789FR",
				"Poids : 1,23 kg", "Conservez ce reçu : il prouve votre dépôt.",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("receipt text has no %q:\n%s", want, strings.Join(doc.lines, "\n"))
				}
			}
			if !strings.Contains(text, "Heure non vérifiée (horloge non synchronisée)") {
				t.Errorf("receipt of a time not synced does not say so:\n%s", strings.Join(doc.lines, "\n"))
			}
			d.TimeSynced = true
			synced, err := Renderer{Paper: paper, Location: paris}.Receipt(d)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(parseESCPOS(t, synced).lines, " "); strings.Contains(s, "non vérifiée") || !strings.Contains(s, "Date : 24/11/2026 11:15") {
				t.Errorf("receipt of a synced time:\n%s\nwant the date and no warning", s)
			}
			if !strings.Contains(flat, "Retour:"+d.RAID) {
				t.Errorf("receipt has no RA id %s", d.RAID)
			}
			if qr := doc.qrTexts(t); len(qr) != 1 || qr[0] != d.Token {
				t.Errorf("QR data %q, want the token", qr)
			}
			if !bytes.HasPrefix(b, []byte{esc, '@', esc, 't', 19}) {
				t.Errorf("receipt starts % x, want ESC @ ESC t 19", b[:5])
			}
			if !bytes.HasSuffix(b, []byte{gs, 'V', 66, 0}) {
				t.Errorf("receipt does not end with GS V 66 0")
			}
		})
	}
}

// TestReceiptInjection puts ESC/POS commands in every text field and checks
// that only the renderer's own commands reach the printer.
func TestReceiptInjection(t *testing.T) {
	evils := []string{"\x1b@", "\x1dV\x42\x00", "\x1b\x70\x00\x19\xfa", "\x1d(k\x03\x001Q0", "a\nb\rc", "\x10\x14\x01\x00\x05"}
	for _, evil := range evils {
		t.Run(fmt.Sprintf("%q", evil), func(t *testing.T) {
			d := fixedReceipt()
			d.RelayPoint.Name, d.Tracking, d.RAID = "X"+evil+"Y", evil, evil
			d.RelayPoint.Address = edge.Address{Street: evil, Postcode: evil, City: evil, Country: evil}
			b, err := Renderer{Location: paris}.Receipt(d)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseESCPOS(t, b)
			if n := doc.count("ESC @"); n != 1 {
				t.Errorf("%d ESC @, want 1", n)
			}
			if n := doc.count("GS V"); n != 1 {
				t.Errorf("%d GS V, want 1", n)
			}
			if n := doc.count("GS v 0"); n != 1 {
				t.Errorf("%d GS v 0, want 1", n)
			}
			for _, c := range doc.cmds {
				if c == "ESC p" || c == "DLE" {
					t.Errorf("command %s from data reached the printer", c)
				}
			}
		})
	}
}

func TestReceiptErrors(t *testing.T) {
	d := fixedReceipt()
	if _, err := (Renderer{Paper: "110mm"}).Receipt(d); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("paper 110mm: error %v, want EINVALID", err)
	}
	d.Token = strings.Repeat("x", qrMaxBytes+1)
	if _, err := (Renderer{}).Receipt(d); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("long token: error %v, want EINVALID", err)
	}
	d.Token = ""
	b, err := Renderer{}.Receipt(d)
	if err != nil {
		t.Fatal(err)
	}
	if doc := parseESCPOS(t, b); len(doc.qr)+len(doc.rasters) != 0 {
		t.Errorf("a receipt without token has a QR")
	}
}

// TestQRModuleSize: the largest module that fits, up to 6 dots on 80 mm
// paper and 4 on 58 mm, measured on the raster: the image is the code's
// width plus 8 modules of quiet zone high, so (rows - width) / 8 is the
// module's size.
func TestQRModuleSize(t *testing.T) {
	for _, tt := range []struct {
		n, cols int
		want    int
	}{
		{300, 48, 6}, {412, 32, 4}, {1000, 48, 4}, {1000, 32, 2},
	} {
		p := escpos{cols: tt.cols}
		if err := p.qr(strings.Repeat("a", tt.n), receiptModule(tt.cols)); err != nil {
			t.Fatal(err)
		}
		img := parseESCPOS(t, p.b).rasters[0]
		left, right := img.Rect.Max.X, -1
		for y := range img.Rect.Dy() {
			for x := range img.Rect.Dx() {
				if img.GrayAt(x, y).Y == 0 {
					left, right = min(left, x), max(right, x)
				}
			}
		}
		rows := int(p.b[6]) | int(p.b[7])<<8
		if got := (rows - (right - left + 1)) / (2 * qrQuietZone); got != tt.want {
			t.Errorf("QR of %d bytes on %d columns: modules of %d dots, want %d", tt.n, tt.cols, got, tt.want)
		}
	}
}
