package cloud_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func TestParseMonth(t *testing.T) {
	for _, s := range []string{"2026-11", "2000-01", "9999-12"} {
		if m, err := cloud.ParseMonth(s); err != nil || m.Format("2006-01") != s || m.Day() != 1 || m.Location() != time.UTC {
			t.Errorf("ParseMonth(%q) = %v, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "2026-13", "2026-00", "2026-1", "26-11", "1999-12", "2026-11-01", "2026/11", " 2026-11"} {
		if _, err := cloud.ParseMonth(s); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("ParseMonth(%q) = %v, want INVALID", s, err)
		}
	}
}

// FuzzParseMonth: a month parses to the first instant of a month that
// formats back to the input, or is INVALID.
func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2026-11", "2026-13", "0000-00", "2026-1x", "２０２６-11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := cloud.ParseMonth(s)
		if err != nil {
			if edge.ErrorCode(err) != edge.EINVALID {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if m.Format("2006-01") != s || m.Day() != 1 || m.Hour() != 0 || m.Year() < 2000 {
			t.Fatalf("%q read as %v", s, m)
		}
	})
}

func TestStatementPaid(t *testing.T) {
	tests := []struct {
		c    cloud.StatementCounts
		want int64
	}{
		{cloud.StatementCounts{Deposits: 4, Instore: 1, Handovers: 9, Refusals: 3}, 5},
		{cloud.StatementCounts{Deposits: 2, Cancelled: 1}, 1},
		{cloud.StatementCounts{Cancelled: 2}, 0}, // cancels of last month's deposits
	}
	for _, tt := range tests {
		if got := tt.c.Paid(); got != tt.want {
			t.Errorf("%+v.Paid() = %d, want %d", tt.c, got, tt.want)
		}
	}
}
