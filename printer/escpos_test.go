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

func TestReceiptQRLength(t *testing.T) {
	token := strings.Repeat("A", 300)
	p := escpos{cols: 48}
	p.qr(token, 6)
	store := []byte{gs, '(', 'k', 0x2F, 0x01, 49, 80, 48} // 303 = 0x012F
	i := bytes.Index(p.b, store)
	if i < 0 {
		t.Fatalf("no store command with length 2F 01 in % x", p.b[:40])
	}
	if got := string(p.b[i+len(store) : i+len(store)+300]); got != token {
		t.Fatalf("stored data differs from the token")
	}
	doc := parseESCPOS(t, p.b)
	if len(doc.qr) != 1 || doc.qr[0] != token {
		t.Fatalf("parsed QR data %q", doc.qr)
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
			if !strings.Contains(flat, "Retour:"+d.RAID) {
				t.Errorf("receipt has no RA id %s", d.RAID)
			}
			if len(doc.qr) != 1 || doc.qr[0] != d.Token {
				t.Errorf("QR data %q, want the token", doc.qr)
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
			if n := doc.count("GS ( k"); n != 5 {
				t.Errorf("%d GS ( k, want 5", n)
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
	if doc := parseESCPOS(t, b); len(doc.qr) != 0 {
		t.Errorf("a receipt without token has a QR")
	}
}

func TestQRModuleSize(t *testing.T) {
	for _, tt := range []struct {
		n, cols int
		want    byte
	}{
		{300, 48, 6}, {412, 48, 6}, {300, 32, 4}, {412, 32, 4},
		{1000, 48, 4}, {1000, 32, 2}, {2331, 48, 3}, {2331, 32, 2},
	} {
		if got := qrModuleSize(tt.n, tt.cols); got != tt.want {
			t.Errorf("qrModuleSize(%d, %d) = %d, want %d", tt.n, tt.cols, got, tt.want)
		}
	}
}
