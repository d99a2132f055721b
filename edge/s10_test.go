package edge_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestCheckS10(t *testing.T) {
	tests := []struct {
		s    string
		want string
	}{
		// Published examples: UPU S10 standard, and Wikipedia's S10 article.
		{"AA473124829GB", ""},
		{"RR123456785FR", ""},
		// Check digits worked by hand: 87654321 weighs 192, 11-192%11 = 6;
		// 00000000 gives 11, read as 5; 70000000 weighs 56, 11-1 = 10, read as 0.
		{"EE876543216US", ""},
		{"RR000000005FR", ""},
		{"RR700000000FR", ""},
		{"EE876543210US", string(edge.BadCheckDigit)},
		{"RR123456789FR", string(edge.BadCheckDigit)},
		{"AA473124828GB", string(edge.BadCheckDigit)},
		{"RR12345678FR", string(edge.UnknownFormat)},
		{"RR1234567855FR", string(edge.UnknownFormat)},
		{"R1123456785FR", string(edge.UnknownFormat)},
		{"RR123456785F1", string(edge.UnknownFormat)},
		{"rr123456785fr", string(edge.UnknownFormat)},
		{"RR12345678XFR", string(edge.UnknownFormat)},
		{"", string(edge.UnknownFormat)},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := edge.ErrorCode(edge.CheckS10(tt.s)); got != tt.want {
				t.Errorf("CheckS10(%q) = %q, want %q", tt.s, got, tt.want)
			}
		})
	}
}

// TestCheckS10_AllCheckDigits builds numbers from the algorithm's definition
// and checks that exactly one check digit is accepted for each serial.
func TestCheckS10_AllCheckDigits(t *testing.T) {
	weights := []int{8, 6, 4, 2, 3, 5, 9, 7}
	for _, serial := range []int{0, 1, 12345678, 47312482, 70000000, 99999999, 31415926, 27182818, 11111111, 50505050} {
		s := fmt.Sprintf("%08d", serial)
		sum := 0
		for i, w := range weights {
			sum += int(s[i]-'0') * w
		}
		want := 11 - sum%11
		if want == 10 {
			want = 0
		} else if want == 11 {
			want = 5
		}
		for d := 0; d <= 9; d++ {
			n := fmt.Sprintf("LA%s%dCH", s, d)
			err := edge.CheckS10(n)
			if (d == want) != (err == nil) {
				t.Errorf("CheckS10(%q) = %v; check digit should be %d", n, err, want)
			}
		}
	}
}

func TestS10(t *testing.T) {
	tests := []struct {
		service, serial, country, want string
	}{
		{"RR", "12345678", "FR", "RR123456785FR"},
		{"AA", "47312482", "GB", "AA473124829GB"},
		{"RR", "00000000", "FR", "RR000000005FR"},
		{"RR", "70000000", "FR", "RR700000000FR"},
		{"RR", "1234567", "FR", ""},
		{"RR", "1234567x", "FR", ""},
		{"rr", "12345678", "FR", ""},
		{"RR", "12345678", "F", ""},
	}
	for _, tt := range tests {
		got, err := edge.S10(tt.service, tt.serial, tt.country)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("S10(%q, %q, %q) = %q, %v; want %q", tt.service, tt.serial, tt.country, got, err, tt.want)
		}
		if err != nil && edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("S10(%q, %q, %q): error code %q, want %q", tt.service, tt.serial, tt.country, edge.ErrorCode(err), edge.EINVALID)
		}
		if tt.want != "" && !edge.ValidS10(got) {
			t.Errorf("ValidS10(%q) = false", got)
		}
	}
}

// refusal reports whether err is an *edge.Error carrying exactly its code as
// its one refusal.
func refusal(err error) bool {
	var e *edge.Error
	return errors.As(err, &e) && len(e.Refusals) == 1 && string(e.Refusals[0]) == e.Code
}

func FuzzCheckS10(f *testing.F) {
	for _, s := range []string{"RR123456785FR", "AA473124829GB", "RR123456789FR", "RR700000000FR", "", "RR12345678FR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := edge.CheckS10(s)
		switch edge.ErrorCode(err) {
		case "":
			// A valid number has exactly one valid check digit.
			b := []byte(s)
			b[10] = '0' + (b[10]-'0'+1)%10
			if edge.CheckS10(string(b)) == nil {
				t.Fatalf("%q and %q both valid", s, b)
			}
		case string(edge.BadCheckDigit), string(edge.UnknownFormat):
			if !refusal(err) {
				t.Fatalf("%v is not a refusal", err)
			}
		default:
			t.Fatalf("CheckS10(%q): %v", s, err)
		}
	})
}
