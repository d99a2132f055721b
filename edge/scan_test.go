package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// refusalsJournalled returns the data of every return.refused in the journal.
func (c *counter) refusalsJournalled(tb testing.TB) []map[string]any {
	tb.Helper()
	page, err := c.desk.History(context.Background(), edge.HistoryQuery{Type: edge.OpReturnRefused, Limit: edge.MaxHistoryPage})
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]any
	for _, op := range page.Operations {
		var m map[string]any
		if err := json.Unmarshal(op.Data, &m); err != nil {
			tb.Fatal(err)
		}
		m["operator"], m["tracking"] = op.Operator, op.Tracking
		out = append(out, m)
	}
	return out
}

func TestScanJournalsRefusals(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	scan := func(texts ...string) (edge.Check, int) {
		t.Helper()
		chk, i, err := c.desk.Scan(ctx, edge.ScanRequest{Texts: texts, Operator: "clerk-1"})
		if err != nil {
			t.Fatal(err)
		}
		return chk, i
	}

	// An eligible code journals nothing; a frame with nothing read neither.
	if chk, i := scan("ra-1"); !chk.Eligible || i != 0 {
		t.Fatalf("ra-1: eligible %v at %d, want true at 0", chk.Eligible, i)
	}
	if chk, i := scan(); chk.Eligible || i != -1 || !slices.Equal(chk.Refusals, []edge.RefusalCode{edge.Unreadable}) {
		t.Fatalf("no text: %+v at %d, want UNREADABLE at -1", chk, i)
	}
	if got := c.refusalsJournalled(t); len(got) != 0 {
		t.Fatalf("journalled %v, want nothing", got)
	}

	// A frame with a refused and an eligible code answers the eligible one.
	if chk, i := scan("nonsense", "ra-2"); !chk.Eligible || i != 1 {
		t.Fatalf("frame: eligible %v at %d, want true at 1", chk.Eligible, i)
	}
	// A refused scan is journalled with its reason and digest; the RA id
	// only for a verified code; never the text.
	if chk, i := scan("nonsense"); chk.Eligible || i != 0 || chk.Refusals[0] != edge.UnknownFormat {
		t.Fatalf("nonsense: %+v at %d", chk, i)
	}
	if chk, _ := scan("ra-exp"); chk.Refusals[0] != edge.Expired {
		t.Fatalf("ra-exp: %+v", chk)
	}
	want := []map[string]any{
		{"reason": "UNKNOWN_FORMAT", "digest": edge.Digest("nonsense"), "operator": "clerk-1", "tracking": ""},
		{"reason": "EXPIRED", "digest": edge.Digest("ra-exp"), "ra_id": "ra-id-exp", "operator": "clerk-1", "tracking": "TRK-EXP"},
	}
	got := c.refusalsJournalled(t)
	if len(got) != len(want) {
		t.Fatalf("journalled %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("refusal %d: %v, want %v", i, got[i], want[i])
		}
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("refusal %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}

	// The same code refused again within the window, at a scan or at the
	// deposit the clerk tries anyway, is one refused parcel.
	c.now = c.now.Add(edge.RefusalRepeatWindow - time.Second)
	scan("ra-exp")
	_, err := c.desk.Deposit(ctx, edge.DepositRequest{Code: "ra-exp", WeightG: 100, Operator: "clerk-1"})
	wantCode(t, err, string(edge.Expired))
	if got := c.refusalsJournalled(t); len(got) != 2 {
		t.Fatalf("after repeats within the window: %d refusals journalled, want 2", len(got))
	}
	// Another reason for the same code is another refusal.
	c.deposit(t, "ra-3")
	scan("ra-3")
	// Past the window, the code counts again.
	c.now = c.now.Add(edge.RefusalRepeatWindow)
	scan("ra-exp")
	got = c.refusalsJournalled(t)
	var reasons []any
	for _, r := range got {
		reasons = append(reasons, r["reason"])
	}
	if !slices.Equal(reasons, []any{"UNKNOWN_FORMAT", "EXPIRED", "DUPLICATE", "EXPIRED"}) {
		t.Errorf("reasons journalled %v, want UNKNOWN_FORMAT EXPIRED DUPLICATE EXPIRED", reasons)
	}

	// The day's summary counts the refused scans.
	s, err := c.desk.DaySummary(ctx, c.now.Format(time.DateOnly), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if s.Refusals[edge.Expired] != 2 || s.Refusals[edge.UnknownFormat] != 1 || s.Refusals[edge.Duplicate] != 1 {
		t.Errorf("summary refusals %v, want EXPIRED 2, UNKNOWN_FORMAT 1, DUPLICATE 1", s.Refusals)
	}
}

// TestScanRefusalsBounded: a flood of distinct refused codes is journalled
// in full (each is a refusal) while the Desk remembers a bounded number.
func TestScanRefusalsBounded(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	for i := range 600 {
		c.now = c.now.Add(100 * time.Millisecond)
		if _, _, err := c.desk.Scan(ctx, edge.ScanRequest{Texts: []string{"junk-" + string(rune('a'+i%26)) + time.Duration(i).String()}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(c.refusalsJournalled(t)); got != 600 {
		t.Errorf("journalled %d refusals, want 600", got)
	}
	// The first ones were forgotten: a repeat of one counts again.
	c.desk.Scan(ctx, edge.ScanRequest{Texts: []string{"junk-a0s"}})
	if got := len(c.refusalsJournalled(t)); got != 601 {
		t.Errorf("journalled %d refusals after a forgotten repeat, want 601", got)
	}
}

func TestMonthStatement(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	c.now = time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC) // 1 December in Paris
	c.deposit(t, "ra-1")
	c.now = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	c.deposit(t, "ra-2")
	c.deposit(t, "ra-3")
	if _, err := c.desk.Cancel(ctx, edge.CancelRequest{DepositID: c.deposit(t, "ra-4").Operation.ID, Operator: "clerk-1", Role: edge.RoleManager}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.desk.ReceiveInstore(ctx, edge.InstoreRequest{Code: "ra-5", Resolution: edge.ResolutionRefund, Operator: "clerk-1",
		Items: []edge.InstoreItem{{SKU: "SKU-B", Qty: 1, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock}}}); err != nil {
		t.Fatal(err)
	}
	c.desk.Scan(ctx, edge.ScanRequest{Texts: []string{"ra-exp"}})
	if _, err := c.desk.Handover(ctx, edge.HandoverRequest{Trackings: []string{"TRK-2"}, Operator: "clerk-1"}); err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data")
	}
	tests := []struct {
		month string
		loc   *time.Location
		want  string
	}{
		{"2026-11", time.UTC, "2026-11 dep 4 can 1 ho 1 ins 1 ref 1 paid 4"},
		{"2026-11", paris, "2026-11 dep 3 can 1 ho 1 ins 1 ref 1 paid 3"},
		{"2026-12", paris, "2026-12 dep 1 can 0 ho 0 ins 0 ref 0 paid 1"},
		{"2026-10", time.UTC, "2026-10 dep 0 can 0 ho 0 ins 0 ref 0 paid 0"},
	}
	for _, tt := range tests {
		s, err := c.desk.MonthStatement(ctx, tt.month, tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%s dep %d can %d ho %d ins %d ref %d paid %d", s.Month, s.Deposits, s.Cancelled, s.HandedOver, s.Instore, s.Refusals[edge.Expired], s.Paid)
		if got != tt.want {
			t.Errorf("%s in %s: %s, want %s", tt.month, tt.loc, got, tt.want)
		}
	}
	for _, bad := range []string{"2026-13", "2026-1", "", "november"} {
		_, err := c.desk.MonthStatement(ctx, bad, time.UTC)
		wantCode(t, err, edge.EINVALID)
	}
}
