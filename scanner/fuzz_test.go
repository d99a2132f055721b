package scanner_test

import (
	"context"
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
)

// refusal reports whether err is an *edge.Error carrying exactly its code as
// its one refusal.
func refusal(err error) bool {
	var e *edge.Error
	return errors.As(err, &e) && len(e.Refusals) == 1 && string(e.Refusals[0]) == e.Code
}

func FuzzReadText(f *testing.F) {
	k, r := MustIssuer(f)
	for _, s := range []string{
		MustRA(f, k, "ra-1", now.Add(time.Hour), ""),
		MustRA(f, k, "ra-2", now.Add(-time.Hour), edge.ModePrelabelled),
		"RR123456785FR", "RR123456789FR\r\n", "1Z999AA10123456784", "", " ", "a.b.c", "\x00", "eyJhbGciOiJub25lIn0.e30.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		code, err := r.Read(context.Background(), text)
		if code.Digest == "" {
			t.Fatal("no digest")
		}
		if err != nil {
			if !refusal(err) {
				t.Fatalf("error %v is not a refusal", err)
			}
			if code.Verified {
				t.Fatal("verified code with an error")
			}
			return
		}
		switch code.Kind {
		case edge.KindReturn:
			if !code.Verified || code.RA == nil || code.RA.ID == "" || code.Tracking == "" {
				t.Fatalf("return code %+v", code)
			}
		case edge.KindTracking:
			trimmed := strings.TrimSpace(text)
			if code.Verified || code.Tracking != trimmed || code.Mode != edge.ModePrelabelled || len(code.Tracking) < 8 || len(code.Tracking) > 40 {
				t.Fatalf("tracking code %+v from %q", code, text)
			}
		default:
			t.Fatalf("no kind: %+v", code)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(encodePNG(f, QRImage(f, "RR123456785FR", 100)))
	f.Add(encodeJPEG(f, Frame(Code128Image(f, "XY1", 120, 30), 160, 60, 20, 15), 80))
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 1, 1))))
	f.Add(pngHeader(100000, 100000))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	// Small limits keep each run fast; the limits themselves are checked
	// by TestDecoder_Refusals.
	d := scanner.Decoder{MaxPixels: 512 * 512, MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		syms, err := d.Decode(context.Background(), data)
		if syms == nil {
			t.Fatal("nil symbols")
		}
		if err != nil {
			if c := edge.ErrorCode(err); c != edge.ETOOLARGE && c != string(edge.Unreadable) {
				t.Fatalf("uncoded error %v", err)
			}
			if len(syms) != 0 {
				t.Fatalf("symbols %v with error %v", syms, err)
			}
			return
		}
		if len(syms) == 0 {
			t.Fatal("no symbols and no error")
		}
		for _, s := range syms {
			if s.Format != "QR_CODE" && s.Format != "CODE_128" && s.Format != "DATA_MATRIX" {
				t.Fatalf("format %q", s.Format)
			}
		}
	})
}
