package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
)

// testStatements: ReportFixture's terminals in November 2026. t-1
// deposited A1, the carrier's parcel, B1 and A5, received A3 in store,
// handed over A1 and B1 and refused a code; t-2 deposited and cancelled A2
// (its deposit of A1, a conflict, does not count).
func testStatements(t *testing.T, s cloud.Store) {
	ReportFixture(t, s)
	ctx := context.Background()
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		tid      string
		from, to time.Time
		want     cloud.StatementCounts
	}{
		{"t-1", nov, nov.AddDate(0, 1, 0), cloud.StatementCounts{Deposits: 4, Handovers: 2, Instore: 1, Refusals: 1}},
		{"t-2", nov, nov.AddDate(0, 1, 0), cloud.StatementCounts{Deposits: 1, Cancelled: 1}},
		{"t-1", nov.AddDate(0, 1, 0), nov.AddDate(0, 2, 0), cloud.StatementCounts{}},
		{"t-1", nov.AddDate(0, -1, 0), nov, cloud.StatementCounts{}},
		{"t-9", nov, nov.AddDate(0, 1, 0), cloud.StatementCounts{}},
	}
	for _, tt := range tests {
		got, err := s.StatementCounts(ctx, tt.tid, tt.from, tt.to)
		if err != nil || got != tt.want {
			t.Errorf("StatementCounts(%s, %s) = %+v, %v; want %+v", tt.tid, tt.from.Format("2006-01"), got, err, tt.want)
		}
	}
}
