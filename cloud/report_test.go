package cloud_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func TestParseReportQuery(t *testing.T) {
	tests := []struct {
		from, to, by string
		wantDays     int
		wantErr      string // a word of the message
	}{
		{"2026-11-01", "2026-11-30", "reason", 30, ""},
		{"2026-11-20", "2026-11-20", "relay_point", 1, ""},
		{"2025-12-04", "2026-12-04", "carrier", 366, ""},
		{"2025-12-03", "2026-12-04", "carrier", 0, "366 days"},
		{"2026-11-30", "2026-11-01", "sku", 0, "before"},
		{"2026-11-31", "2026-12-01", "sku", 0, "from must be"},
		{"2026-11-01", "yesterday", "sku", 0, "to must be"},
		{"", "2026-11-01", "sku", 0, "from must be"},
		{"2026-1-01", "2026-11-01", "sku", 0, "from must be"},
		{"1999-12-31", "2000-01-01", "sku", 0, "from must be"},
		{"2026-11-01", "2026-11-02", "store", 0, "by must be"},
		{"2026-11-01", "2026-11-02", "", 0, "by must be"},
		{"2026-11-01", "2026-11-02", "REASON", 0, "by must be"},
	}
	for _, tt := range tests {
		q, err := cloud.ParseReportQuery(tt.from, tt.to, tt.by)
		if tt.wantErr != "" {
			if edge.ErrorCode(err) != edge.EINVALID || !strings.Contains(edge.ErrorMessage(err), tt.wantErr) {
				t.Errorf("ParseReportQuery(%q, %q, %q) = %v; want INVALID naming %q", tt.from, tt.to, tt.by, err, tt.wantErr)
			}
			continue
		}
		if err != nil || q.Days() != tt.wantDays || string(q.By) != tt.by || q.From.Format(time.DateOnly) != tt.from {
			t.Errorf("ParseReportQuery(%q, %q, %q) = %+v (%d days), %v; want %d days", tt.from, tt.to, tt.by, q, q.Days(), err, tt.wantDays)
		}
	}
}

// FuzzParseReportQuery: any parameters give a query of 1 to MaxReportDays
// whole days and a known dimension, or an INVALID error; never a panic.
func FuzzParseReportQuery(f *testing.F) {
	f.Add("2026-11-01", "2026-11-30", "reason")
	f.Add("2026-11-30", "2026-11-01", "sku")
	f.Add("0000-01-01", "9999-12-31", "carrier")
	f.Add("2026-02-29", "2026-03-01", "relay_point")
	f.Add("2026-11-01T00:00:00Z", "2026-11-02", "x")
	f.Fuzz(func(t *testing.T, from, to, by string) {
		q, err := cloud.ParseReportQuery(from, to, by)
		if err != nil {
			if edge.ErrorCode(err) != edge.EINVALID || len(edge.ErrorMessage(err)) > 300 {
				t.Fatalf("error %v: want a short INVALID", err)
			}
			return
		}
		if d := q.Days(); d < 1 || d > cloud.MaxReportDays || !q.To.Equal(q.From.AddDate(0, 0, d)) {
			t.Fatalf("%q %q: %+v, %d days", from, to, q, d)
		}
		if q.From.Format(time.DateOnly) != from || q.To.AddDate(0, 0, -1).Format(time.DateOnly) != to {
			t.Fatalf("%q %q: read as %+v", from, to, q)
		}
	})
}

// TestReturnFactsOrder: whatever the order in which a return's steps are
// seen, the counters (the sum of every step's change) equal what the
// facts of the last state count: a deposit seen late but made first moves
// the relay point and the durations.
func TestReturnFactsOrder(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	r := cloud.Return{ID: "ra", Merchant: "acme", Tracking: "T", Carrier: "DEMO", CreatedAt: day,
		Items: []edge.Item{{SKU: "S1", Reason: edge.ReasonDamaged}, {SKU: "S1", Reason: edge.ReasonDamaged}}}
	steps := []cloud.ReportStep{
		{Status: cloud.StatusDeposited, At: day.Add(4 * time.Hour), Terminal: "t-late"},
		{Status: cloud.StatusReceivedAtWarehouse, At: day.Add(28 * time.Hour)},
		{Status: cloud.StatusDeposited, At: day.Add(time.Hour), Terminal: "t-first"},
		{Status: cloud.StatusRefunded, At: day.Add(49 * time.Hour)},
	}
	f := cloud.NewReturnFacts(r)
	sum := map[cloud.ReportKey]*cloud.ReportCounts{}
	add := func(d map[cloud.ReportKey]cloud.ReportCounts) { addCounts(sum, d) }
	add(f.CreatedCounts())
	for _, st := range steps {
		add(f.Observe(st))
	}
	add(f.Observe(steps[1])) // seen twice: no change
	rows := map[cloud.ReportKey]string{}
	for k, c := range sum {
		if c.N != ([8]int64{}) {
			rows[k] = strings.Join(c.Row(k.Key).Record(), " ")
		}
	}
	// Created to the first drop-off: 1h; to the warehouse 27h (the
	// bucket of 36h), to the refund 48h.
	want := map[cloud.ReportKey]string{
		{cloud.ByReason, edge.ReasonDamaged}: "DAMAGED 1 1 0 0 0 1 1 0 3600 3600   129600 129600 172800 172800",
		{cloud.BySKU, "S1"}:                  "S1 1 1 0 0 0 1 1 0 3600 3600   129600 129600 172800 172800",
		{cloud.ByCarrier, "DEMO"}:            "DEMO 1 1 0 0 0 1 1 0 3600 3600   129600 129600 172800 172800",
		{cloud.ByRelayPoint, "t-first"}:      "t-first 1 1 0 0 0 1 1 0 3600 3600   129600 129600 172800 172800",
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %v, want %v", rows, want)
	}
	for k, w := range want {
		if rows[k] != w {
			t.Errorf("%v = %q, want %q", k, rows[k], w)
		}
	}
}

// TestDurationChanges: a return's durations kept from its creation as
// PostgreSQL keeps them (StageSecs, SameRows) are, after every step, its
// facts' Durations: rows that come and go (a relay point that
// moves, grades), stages taken, and a duration that moves within its
// bucket (a deposit 10 minutes earlier at the same relay point).
func TestDurationChanges(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	r := cloud.Return{ID: "ra", Merchant: "acme", Tracking: "T", Carrier: "DEMO", CreatedAt: day,
		Items: []edge.Item{{SKU: "S1", Reason: edge.ReasonDamaged}, {SKU: "S2", Reason: edge.ReasonWrongSize}}}
	graded := &edge.InstoreData{Items: []edge.InstoreItem{{Disposition: edge.DispositionRestock}}, Resolution: edge.ResolutionRefund}
	steps := []cloud.ReportStep{
		{Status: cloud.StatusDeposited, At: day.Add(4 * time.Hour), Terminal: "t-late"},
		{Status: cloud.StatusHandedOver, At: day.Add(6 * time.Hour)},
		{Status: cloud.StatusDeposited, At: day.Add(3*time.Hour + 50*time.Minute), Terminal: "t-late"},
		{Status: cloud.StatusReceivedAtWarehouse, At: day.Add(28 * time.Hour)},
		{Status: cloud.StatusReceivedInStore, At: day.Add(time.Hour), Terminal: "t-first", Instore: graded},
		{Status: cloud.StatusRefunded, At: day.Add(49 * time.Hour)},
		{Status: cloud.StatusCancelled, At: day.Add(50 * time.Hour)},
	}
	f := cloud.NewReturnFacts(r)
	kept := map[string]int64{}
	id := func(d cloud.ReportDuration) string { return fmt.Sprint(d.By, " ", d.Key, " ", d.Stage) }
	for i, st := range steps {
		before := f
		f.Apply(st)
		// As PostgreSQL keeps them: the rows' durations rewritten when the
		// rows change, else each stage's that changed.
		secs, was := f.StageSecs(), before.StageSecs()
		for _, d := range before.Durations() {
			if !f.SameRows(before) || secs[d.Stage] != was[d.Stage] {
				delete(kept, id(d))
			}
		}
		for _, d := range f.Durations() {
			if !f.SameRows(before) || secs[d.Stage] != was[d.Stage] {
				kept[id(d)] = d.Secs
			}
		}
		want := map[string]int64{}
		for _, d := range f.Durations() {
			want[id(d)] = d.Secs
		}
		if fmt.Sprint(kept) != fmt.Sprint(want) {
			t.Fatalf("step %d: durations kept %v, want %v", i, kept, want)
		}
	}
	if len(kept) != 8*4 {
		t.Errorf("%d durations at the end, want 32 (8 rows, 4 stages): %v", len(kept), kept)
	}
}

// TestReportSum: the changes of ObserveEach and CreatedEach added up in a
// ReportSum give the counters that Observe's and CreatedCounts' maps
// added up with ReportCounts.Add give, steps that move a duration to
// another bucket and back included; ObserveEach reports whether the facts
// changed (a step seen twice changes nothing).
func TestReportSum(t *testing.T) {
	if cloud.NumBuckets != len(cloud.HistBounds)+1 {
		t.Fatalf("NumBuckets = %d, HistBounds has %d bounds", cloud.NumBuckets, len(cloud.HistBounds))
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	r := cloud.Return{ID: "ra", Merchant: "acme", Tracking: "T", Carrier: "DEMO", CreatedAt: day,
		Items: []edge.Item{{SKU: "S1", Reason: edge.ReasonDamaged}, {SKU: "S2", Reason: edge.ReasonWrongSize}}}
	steps := []cloud.ReportStep{
		{Status: cloud.StatusDeposited, At: day.Add(30 * time.Hour), Terminal: "t-late"},
		{Status: cloud.StatusHandedOver, At: day.Add(40 * time.Hour)},
		{Status: cloud.StatusDeposited, At: day.Add(time.Hour), Terminal: "t-first"},
		{Status: cloud.StatusReceivedInStore, At: day.Add(time.Minute), Terminal: "t-store",
			Instore: &edge.InstoreData{Resolution: edge.ResolutionRefund}},
		{Status: cloud.StatusCancelled, At: day.Add(50 * time.Hour)},
		{Status: cloud.StatusHandedOver, At: day.Add(40 * time.Hour)},
	}
	maps := map[cloud.ReportKey]*cloud.ReportCounts{}
	sums := map[cloud.ReportKey]*cloud.ReportSum{}
	addMap := func(d map[cloud.ReportKey]cloud.ReportCounts) { addCounts(maps, d) }
	addSum := func(k cloud.ReportKey, d cloud.ReportDelta) {
		if sums[k] == nil {
			sums[k] = &cloud.ReportSum{}
		}
		sums[k].Add(d)
	}
	f, g := cloud.NewReturnFacts(r), cloud.NewReturnFacts(r)
	addMap(f.CreatedCounts())
	g.CreatedEach(addSum)
	unchanged := 0
	for i, st := range steps {
		addMap(f.Observe(st))
		before := g
		changed := g.ObserveEach(st, addSum)
		if same := reflect.DeepEqual(before, g); changed == same {
			t.Errorf("step %d: ObserveEach reports changed %v, facts %+v then %+v", i, changed, before, g)
		} else if same {
			unchanged++
		}
	}
	if unchanged == 0 {
		t.Fatal("no step left the facts the same")
	}
	if len(sums) != len(maps) {
		t.Fatalf("%d rows summed, %d by maps", len(sums), len(maps))
	}
	for k, c := range maps {
		s := sums[k]
		if s == nil {
			t.Fatalf("%v: not summed", k)
		}
		got := s.Counts()
		if got.N != c.N {
			t.Errorf("%v: counts %v, want %v", k, got.N, c.N)
		}
		for st := range c.H {
			if len(got.H[st]) != len(c.H[st]) {
				t.Errorf("%v stage %d: histogram %v, want %v", k, st, got.H[st], c.H[st])
			}
			for b, n := range c.H[st] {
				if got.H[st][b] != n {
					t.Errorf("%v stage %d: histogram %v, want %v", k, st, got.H[st], c.H[st])
				}
			}
		}
	}
}

// addCounts adds the counters' changes d to sum.
func addCounts(sum map[cloud.ReportKey]*cloud.ReportCounts, d map[cloud.ReportKey]cloud.ReportCounts) {
	for k, c := range d {
		if sum[k] == nil {
			sum[k] = &cloud.ReportCounts{}
		}
		sum[k].Add(c)
	}
}

// TestRefusalsScope: the relay points' refusals are the network's; a
// merchant's scope is refused before the store is asked.
func TestRefusalsScope(t *testing.T) {
	rs := &cloud.Reports{} // no store: it must not be reached
	_, err := rs.Refusals(context.Background(), cloud.MerchantScope("acme"), "2026-11-01", "2026-11-30")
	if got := edge.ErrorCode(err); got != edge.EFORBIDDEN {
		t.Errorf("merchant scope: %v, want FORBIDDEN", err)
	}
}
