package printer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func fixedManifest() edge.ManifestDoc {
	return edge.ManifestDoc{
		ManifestID: "M20261124-0042",
		Carrier:    "Colis Express",
		RelayPoint: fixedLabel().Origin,
		At:         time.Date(2026, 11, 24, 17, 30, 0, 0, time.UTC),
		DriverRef:  "Camion 7 – Éric",
		Operator:   "Zoé",
		Trackings:  []string{"XY123456789FR", "XY223456789FR", "CB987654321FR", "1Z999AA10123456784", "XY323456789FR", "XY423456789FR", "XY523456789FR", "XY623456789FR", "XY723456789FR", "XY823456789FR", "XY923456789FR"},
	}
}

func TestManifestContent(t *testing.T) {
	for _, paper := range []string{Paper80mm, Paper58mm} {
		t.Run(paper, func(t *testing.T) {
			m := fixedManifest()
			b, err := Renderer{Paper: paper, Location: paris}.Manifest(m)
			if err != nil {
				t.Fatal(err)
			}
			cols := map[string]int{Paper80mm: 48, Paper58mm: 32}[paper]
			doc := parseESCPOS(t, b)
			doc.checkWidth(t, cols)
			text := strings.Join(doc.lines, "\n")
			for _, want := range []string{
				"BORDEREAU DE REMISE", "Tabac Presse du Marché", "Transporteur : Colis Express",
				"Date : 24/11/2026 18:30", "Chauffeur : Camion 7 - Éric", "Remis par : Zoé",
				"Colis : 11", "1. XY123456789FR", "11. XY923456789FR", "Signature du chauffeur :",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("manifest has no %q:\n%s", want, text)
				}
			}
			if len(doc.bars) != 1 || doc.bars[0] != m.ManifestID {
				t.Errorf("barcodes %q, want [%q]", doc.bars, m.ManifestID)
			}
			if n := doc.count("GS V"); n != 1 {
				t.Errorf("%d cuts, want 1", n)
			}
		})
	}
}

// TestManifestUUID checks that a manifest id too long for a Code 128 on
// the paper is printed as a QR code, and one that fits as a barcode.
func TestManifestUUID(t *testing.T) {
	m := fixedManifest()
	m.ManifestID = "0193a5b2-7c1e-7d3f-9a4b-2c5d6e7f8a9b"
	for _, tt := range []struct {
		paper    string
		bars, qr int
	}{{Paper80mm, 1, 1}, {Paper58mm, 0, 1}} {
		b, err := Renderer{Paper: tt.paper}.Manifest(m)
		if err != nil {
			t.Fatal(err)
		}
		doc := parseESCPOS(t, b)
		qr := doc.qrTexts(t)
		if len(doc.bars) != tt.bars || len(qr) != tt.qr {
			t.Errorf("%s: %d barcodes and %d QR codes, want %d and %d", tt.paper, len(doc.bars), len(qr), tt.bars, tt.qr)
		}
		for _, s := range append(doc.bars, qr...) {
			if s != m.ManifestID {
				t.Errorf("%s: code says %q, want %q", tt.paper, s, m.ManifestID)
			}
		}
	}
}

func TestManifestInjection(t *testing.T) {
	for _, evil := range []string{"\x1b@", "\x1dV\x42\x00", "\x1dk\x49\x03{B1", "a\nb"} {
		t.Run(fmt.Sprintf("%q", evil), func(t *testing.T) {
			m := fixedManifest()
			m.Carrier, m.DriverRef, m.Operator = evil, evil, evil
			m.Trackings = []string{evil, "X" + evil}
			b, err := Renderer{}.Manifest(m)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseESCPOS(t, b)
			if doc.count("ESC @") != 1 || doc.count("GS V") != 1 || doc.count("GS k") != 1 {
				t.Errorf("commands from data reached the printer: %q", doc.cmds)
			}
		})
	}
	m := fixedManifest()
	m.ManifestID = "M\x1b@"
	if _, err := (Renderer{}).Manifest(m); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("manifest id with ESC: error %v, want EINVALID", err)
	}
}

func TestCode128Sets(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    string
		modules int
	}{
		{"AB", "{BAB", 11*4 + 13},
		{"1234", "{C\x0c\x22", 11*4 + 13},
		{"12345", "{B1{C\x17\x2d", 11*6 + 13},
		{"A{1", "{BA{{1", 11*5 + 13},
		{"X123", "{BX123", 11*6 + 13},
	} {
		got := code128Sets(tt.in)
		if string(got) != tt.want {
			t.Errorf("code128Sets(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if n := code128Modules(got); n != tt.modules {
			t.Errorf("code128Modules(%q) = %d, want %d", tt.in, n, tt.modules)
		}
		if back := code128Text(got); back != tt.in {
			t.Errorf("code128Text(%q) = %q, want %q", got, back, tt.in)
		}
	}
}
