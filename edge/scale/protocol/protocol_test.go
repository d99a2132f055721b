package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/scale/protocol"
)

type want struct {
	mg    int64
	state edge.ScaleState
	code  string // error code; "" for none
}

func check(t *testing.T, got edge.ScaleReading, err error, w want) {
	t.Helper()
	if code := edge.ErrorCode(err); code != w.code {
		t.Fatalf("error %v (code %q), want code %q", err, code, w.code)
	}
	if err == nil && (got.Milligrams != w.mg || got.State != w.state) {
		t.Fatalf("got %d mg %s, want %d mg %s", got.Milligrams, got.State, w.mg, w.state)
	}
}

func TestParseSICS(t *testing.T) {
	tests := []struct {
		line string
		want
	}{
		{"S S      1.234 kg\r\n", want{1_234_000, edge.ScaleStable, ""}},
		{"S S     1234.5 g\r\n", want{1_234_500, edge.ScaleStable, ""}},
		{"S D      1.230 kg\r\n", want{1_230_000, edge.ScaleUnstable, ""}},
		{"S S      0.000 kg", want{0, edge.ScaleStable, ""}},
		{"S S     -0.250 kg\r\n", want{-250_000, edge.ScaleNegative, ""}},
		{"S D     -12 g\r\n", want{-12_000, edge.ScaleNegative, ""}},
		{"S +\r\n", want{0, edge.ScaleOverload, ""}},
		{"S -\r\n", want{0, edge.ScaleNegative, ""}},
		{"S S      2.000 lb\r\n", want{907_185, edge.ScaleStable, ""}}, // 907.18474 g
		{"S S      3.50 oz\r\n", want{99_223, edge.ScaleStable, ""}},   // 99.2233 g
		{"S S    850 mg\r\n", want{850, edge.ScaleStable, ""}},
		{"SI S 0.5 kg\r\n", want{500_000, edge.ScaleStable, ""}},
		{"S I\r\n", want{code: edge.EUNAVAILABLE}},
		{"ES\r\n", want{code: edge.EUNAVAILABLE}},
		{"EL\r\n", want{code: edge.EUNAVAILABLE}},
		{"S S 1.2 stone\r\n", want{code: edge.EINVALID}},
		{"S S 1,2 kg\r\n", want{code: edge.EINVALID}},
		{"S S 1.2.3 kg\r\n", want{code: edge.EINVALID}},
		{"S S . kg\r\n", want{code: edge.EINVALID}},
		{"S S 1234567890123 g\r\n", want{code: edge.EINVALID}},
		{"S X 1.2 kg\r\n", want{code: edge.EINVALID}},
		{"S S 1.2\r\n", want{code: edge.EINVALID}},
		{"I4 A \"B123\"\r\n", want{code: edge.EINVALID}},
		{"", want{code: edge.EINVALID}},
		{"S S " + strings.Repeat(" ", 70) + "1 g", want{code: edge.EINVALID}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.line), func(t *testing.T) {
			got, err := protocol.ParseSICS([]byte(tt.line))
			check(t, got, err, tt.want)
		})
	}
}

func TestParseHIDReport(t *testing.T) {
	tests := []struct {
		name   string
		report []byte
		want
	}{
		{"stable grams", []byte{3, 4, 2, 0, 0xB0, 0x04}, want{1_200_000, edge.ScaleStable, ""}},              // 1200 g
		{"stable kg, exponent -3", []byte{3, 4, 3, 0xFD, 0xB0, 0x04}, want{1_200_000, edge.ScaleStable, ""}}, // 1200 x 10^-3 kg
		{"ounces, exponent -1", []byte{3, 4, 11, 0xFF, 0x2A, 0x00}, want{119_068, edge.ScaleStable, ""}},     // 4.2 oz
		{"pounds, exponent -2", []byte{3, 4, 12, 0xFE, 0xC8, 0x00}, want{907_185, edge.ScaleStable, ""}},     // 2.00 lb
		{"stable at zero", []byte{3, 2, 2, 0, 0, 0}, want{0, edge.ScaleStable, ""}},
		{"in motion", []byte{3, 3, 2, 0, 0x64, 0x00}, want{100_000, edge.ScaleUnstable, ""}},
		{"under zero", []byte{3, 5, 2, 0, 0x19, 0x00}, want{-25_000, edge.ScaleNegative, ""}},
		{"over weight", []byte{3, 6, 2, 0, 0xFF, 0xFF}, want{0, edge.ScaleOverload, ""}},
		{"fault", []byte{3, 1, 2, 0, 0, 0}, want{0, edge.ScaleFault, ""}},
		{"needs calibration", []byte{3, 7, 2, 0, 0, 0}, want{0, edge.ScaleFault, ""}},
		{"needs rezeroing", []byte{3, 8, 2, 0, 0, 0}, want{0, edge.ScaleFault, ""}},
		{"unknown status", []byte{3, 9, 2, 0, 0, 0}, want{code: edge.EINVALID}},
		{"taels", []byte{3, 4, 5, 0, 1, 0}, want{code: edge.EINVALID}},
		{"unknown unit", []byte{3, 4, 13, 0, 1, 0}, want{code: edge.EINVALID}},
		{"exponent too large", []byte{3, 4, 2, 11, 1, 0}, want{code: edge.EINVALID}},
		{"exponent too small", []byte{3, 4, 2, 0xF5, 1, 0}, want{code: edge.EINVALID}},
		{"out of range", []byte{3, 4, 8, 10, 0xFF, 0xFF}, want{code: edge.EINVALID}},
		{"short", []byte{3, 4, 2, 0}, want{code: edge.EINVALID}},
		{"empty", nil, want{code: edge.EINVALID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.ParseHIDReport(tt.report)
			check(t, got, err, tt.want)
		})
	}
	if _, err := protocol.ParseHIDReport([]byte{4, 1, 0}); !errors.Is(err, protocol.ErrNotWeight) {
		t.Fatalf("another report: err %v, want ErrNotWeight", err)
	}
}

// validState reports whether s is a state a scale may report.
func validState(s edge.ScaleState) bool {
	switch s {
	case edge.ScaleStable, edge.ScaleUnstable, edge.ScaleOverload, edge.ScaleNegative, edge.ScaleFault:
		return true
	}
	return false
}

// checkReading fails t unless r, err is a reading a scale may give or a
// coded error (or ErrNotWeight).
func checkReading(t *testing.T, r edge.ScaleReading, err error) {
	t.Helper()
	if err != nil {
		if code := edge.ErrorCode(err); code == edge.EINTERNAL && !errors.Is(err, protocol.ErrNotWeight) {
			t.Fatalf("uncoded error %v", err)
		}
		return
	}
	if !validState(r.State) {
		t.Fatalf("state %q", r.State)
	}
	if r.Milligrams > protocol.MaxMilligrams || r.Milligrams < -protocol.MaxMilligrams {
		t.Fatalf("%d mg out of range", r.Milligrams)
	}
	if r.Milligrams < 0 && r.State != edge.ScaleNegative {
		t.Fatalf("%d mg but state %s", r.Milligrams, r.State)
	}
}

func FuzzParseSICS(f *testing.F) {
	for _, s := range []string{"S S      1.234 kg\r\n", "S D -0.5 g", "S +", "ES", "S S 12 lb", "S I"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := protocol.ParseSICS(line)
		checkReading(t, r, err)
	})
}

func FuzzParseHIDReport(f *testing.F) {
	for _, b := range [][]byte{{3, 4, 2, 0, 0xB0, 0x04}, {3, 5, 11, 0xFF, 1, 0}, {3, 6, 2, 0, 0, 0}, {4, 0}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, report []byte) {
		r, err := protocol.ParseHIDReport(report)
		checkReading(t, r, err)
	})
}
