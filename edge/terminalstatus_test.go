package edge_test

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// statusJournal is a journal's figures, fixed.
type statusJournal struct {
	pending int
	oldest  time.Time
	shelf   int
	jobs    []edge.PrintJob
}

func (j statusJournal) OutboxStats(context.Context) (int, time.Time, error) {
	return j.pending, j.oldest, nil
}
func (j statusJournal) ShelfCount(context.Context) (int, error) { return j.shelf, nil }
func (j statusJournal) LastSeq() uint64                         { return 42 }
func (j statusJournal) DiskWarning() bool                       { return true }
func (j statusJournal) PendingJobs(context.Context) ([]edge.PrintJob, error) {
	return j.jobs, nil
}

// printerStates has the label printer out of paper.
type printerStates struct{}

func (printerStates) Up(p string) bool { return p != edge.PrinterLabel }
func (printerStates) Statuses() []edge.PrinterStatus {
	return []edge.PrinterStatus{{Printer: edge.PrinterLabel, Reason: edge.PrinterPaperOut}, {Printer: edge.PrinterReceipt, Up: true}}
}

// TestStatusReport puts together the journal's figures, the printers' and
// the clock's state.
func TestStatusReport(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	clock := edge.NewTrustedClock(now.Add(time.Hour)) // the last operation an hour ahead of the system clock
	clock.Wall = func() time.Time { return now }
	clock.Elapsed = func() time.Duration { return 0 }
	r := edge.StatusReport{
		Terminal: "t-1", Version: "v9", Printers: printerStates{}, Clock: clock,
		Journal: statusJournal{pending: 3, oldest: now.Add(-time.Minute), shelf: 5, jobs: []edge.PrintJob{
			{ID: "j1", Printer: edge.PrinterLabel, State: edge.JobPending}, {ID: "j2", Printer: edge.PrinterLabel, State: edge.JobPending},
		}},
		Online: func() bool { return true }, DiskFree: func() uint64 { return 7 }, Now: func() time.Time { return now },
	}
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Terminal != "t-1" || !st.Online || st.OutboxPending != 3 || st.OutboxOldestAgeS != 60 || st.Shelf != 5 ||
		st.LastSeq != 42 || !st.DiskWarning || st.DiskFreeBytes != 7 || len(st.PrintJobs) != 2 {
		t.Errorf("figures: %+v", st)
	}
	if got := st.Printers[edge.PrinterLabel]; got.Up || got.State != edge.PrinterPaperOut || got.Pending != 2 {
		t.Errorf("label printer %+v, want down, paper out, 2 jobs", got)
	}
	if got := st.Printers[edge.PrinterReceipt]; !got.Up || got.State != "ready" || got.Pending != 0 {
		t.Errorf("receipt printer %+v, want up and ready", got)
	}
	if !st.ClockBehind || st.ClockBehindS != 3600 || !st.ClockWrong || st.ClockSynced || st.ClockSkewS != nil {
		t.Errorf("clock an hour behind the journal, cloud unknown: %+v", st)
	}
}
