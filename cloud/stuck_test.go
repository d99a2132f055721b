package cloud_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func TestParseStuckQuery(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		stage, olderThan, limit string
		wantBefore              time.Time
		wantLimit               int
		ok                      bool
	}{
		{"awaiting_handover", "72h", "", now.Add(-72 * time.Hour), 1000, true},
		{"awaiting_carrier", "3d", "10", now.Add(-72 * time.Hour), 10, true},
		{"awaiting_carrier", "1m", "1000", now.Add(-time.Minute), 1000, true},
		{"awaiting_carrier", "366d", "", now.Add(-366 * 24 * time.Hour), 1000, true},
		{"awaiting_carrier", "367d", "", time.Time{}, 0, false},
		{"awaiting_carrier", "59s", "", time.Time{}, 0, false},
		{"awaiting_carrier", "-3d", "", time.Time{}, 0, false},
		{"awaiting_carrier", "+3d", "", time.Time{}, 0, false},
		{"awaiting_carrier", "d", "", time.Time{}, 0, false},
		{"awaiting_carrier", "", "", time.Time{}, 0, false},
		{"awaiting_carrier", "1h", "x", time.Time{}, 0, false},
		{"created", "1h", "", time.Time{}, 0, false},
		{"", "1h", "", time.Time{}, 0, false},
	}
	for _, tt := range tests {
		q, err := cloud.ParseStuckQuery(tt.stage, tt.olderThan, tt.limit, now)
		if !tt.ok {
			if edge.ErrorCode(err) != edge.EINVALID {
				t.Errorf("ParseStuckQuery(%q, %q, %q) = %+v, %v; want INVALID", tt.stage, tt.olderThan, tt.limit, q, err)
			}
			continue
		}
		if err != nil || !q.Before.Equal(tt.wantBefore) || q.Limit != tt.wantLimit || string(q.Stage) != tt.stage {
			t.Errorf("ParseStuckQuery(%q, %q, %q) = %+v, %v", tt.stage, tt.olderThan, tt.limit, q, err)
		}
	}
}

// FuzzParseStuckQuery: any parameters give a cut-off a minute to 366 days
// before now, a known stage and a limit of 1 to 1,000, or INVALID.
func FuzzParseStuckQuery(f *testing.F) {
	f.Add("awaiting_handover", "72h", "")
	f.Add("awaiting_carrier", "3d", "10")
	f.Add("awaiting_carrier", "9223372036854775807d", "-1")
	f.Add("x", "1h1m1s1ms", "1e3")
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, stage, olderThan, limit string) {
		q, err := cloud.ParseStuckQuery(stage, olderThan, limit, now)
		if err != nil {
			if edge.ErrorCode(err) != edge.EINVALID {
				t.Fatalf("error %v: want INVALID", err)
			}
			return
		}
		age := now.Sub(q.Before)
		if age < time.Minute || age > cloud.MaxStuckAge || q.Limit < 1 || q.Limit > cloud.MaxStuckParcels {
			t.Fatalf("%q %q %q: %+v (age %s)", stage, olderThan, limit, q, age)
		}
		if q.Stage != cloud.StageAwaitingHandover && q.Stage != cloud.StageAwaitingCarrier {
			t.Fatalf("stage %q", q.Stage)
		}
	})
}
