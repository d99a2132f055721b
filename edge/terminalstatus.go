package edge

import (
	"context"
	"fmt"
	"time"
)

// PrinterSummary is one printer's state as the fleet sees it (the MQTT
// status message's "printers").
type PrinterSummary struct {
	Up      bool   `json:"up"`
	State   string `json:"state,omitempty"` // ready, paper_out, head_open, paused, offline
	Pending int    `json:"pending"`
}

// PrintJobView is a print job in the terminal's status, without its bytes.
type PrintJobView struct {
	ID          string    `json:"id"`
	OperationID string    `json:"operation_id"`
	Printer     string    `json:"printer"`
	Format      string    `json:"format"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// TerminalStatus is the terminal's state: the body of the kiosk's GET
// /api/status, and what the retained MQTT status says of it.
type TerminalStatus struct {
	Terminal         string                    `json:"terminal"`
	Version          string                    `json:"version"`
	Online           bool                      `json:"online"`
	OutboxPending    int                       `json:"outbox_pending"`
	OutboxOldestAgeS float64                   `json:"outbox_oldest_age_s"`
	Printers         map[string]PrinterSummary `json:"printers"`
	DiskFreeBytes    uint64                    `json:"disk_free_bytes"`
	Shelf            int                       `json:"shelf"`
	LastSeq          uint64                    `json:"last_seq"`
	// DiskWarning is on past 80 % of the journal's disk budget.
	DiskWarning bool `json:"disk_warning"`
	// ClockBehind is on when the system clock is behind the last
	// journalled operation: the counter then runs from that time plus the
	// time since start (TrustedClock); ClockBehindS says by how much.
	ClockBehind  bool    `json:"clock_behind"`
	ClockBehindS float64 `json:"clock_behind_s,omitempty"`
	// JournalDamaged is on when the journal did not open at start and a
	// new one was started (the old one kept aside for recovery).
	JournalDamaged bool `json:"journal_damaged"`
	// ClockSynced is on when the counter's time agrees with the cloud's,
	// read less than a day ago (ClockState); receipts say it too.
	// ClockWrong is on when the system clock is known to be wrong (behind,
	// or off the cloud's time by more than ClockTolerance); ClockSkewS is
	// its offset from the cloud's time (positive: ahead), once the cloud's
	// time was read.
	ClockSynced bool     `json:"clock_synced"`
	ClockWrong  bool     `json:"clock_wrong"`
	ClockSkewS  *float64 `json:"clock_skew_s,omitempty"`
	// PrinterStates says why a printer is down (paper out, head open,
	// paused, unreachable, failing) and when its next job is tried.
	PrinterStates []PrinterStatus `json:"printer_states"`
	// PrintJobs lists the jobs not yet printed (their bytes are at
	// /api/print-jobs/{id}/data).
	PrintJobs []PrintJobView `json:"print_jobs"`
}

// StatusJournal is what the terminal's status reads of the journal.
type StatusJournal interface {
	// OutboxStats returns how many operations wait for the cloud's ack
	// and when the oldest of them occurred.
	OutboxStats(ctx context.Context) (pending int, oldest time.Time, err error)
	// ShelfCount returns how many parcels are on the shelf: the status
	// is read every few seconds, and a full shelf read would hold every
	// parcel in memory for a count.
	ShelfCount(ctx context.Context) (int, error)
	// LastSeq returns the last durable seq.
	LastSeq() uint64
	// DiskWarning reports whether the journal uses 80 % of its budget.
	DiskWarning() bool
	// PendingJobs returns the print jobs not yet done, without their data.
	PendingJobs(ctx context.Context) ([]PrintJob, error)
}

// PrinterStates is what the status reads of the print runner.
type PrinterStates interface {
	// Up reports whether the printer's last job went through.
	Up(printer string) bool
	// Statuses returns what is known of each printer.
	Statuses() []PrinterStatus
}

// StatusReport is the use case that tells the terminal's state, to the
// kiosk and to the fleet. Its fields are set once by the wiring code.
type StatusReport struct {
	Terminal, Version string
	Journal           StatusJournal
	Printers          PrinterStates
	// Clock is the counter's clock; its state is not reported when nil.
	Clock interface{ State() ClockState }
	// Online reports whether the uplink's session is up; DiskFree the free
	// bytes of the data directory's file system.
	Online   func() bool
	DiskFree func() uint64
	// Now is the clock of ages; time.Now when nil.
	Now func() time.Time
	// JournalDamaged says the journal did not open at start and a new one
	// was started.
	JournalDamaged bool
}

// Status returns the terminal's state now. Errors are the journal's.
func (s *StatusReport) Status(ctx context.Context) (TerminalStatus, error) {
	pending, oldest, err := s.Journal.OutboxStats(ctx)
	if err != nil {
		return TerminalStatus{}, fmt.Errorf("status: %w", err)
	}
	shelf, err := s.Journal.ShelfCount(ctx)
	if err != nil {
		return TerminalStatus{}, fmt.Errorf("status: %w", err)
	}
	st := TerminalStatus{
		Terminal: s.Terminal, Version: s.Version, OutboxPending: pending,
		Printers: map[string]PrinterSummary{}, Shelf: shelf,
		LastSeq: s.Journal.LastSeq(), DiskWarning: s.Journal.DiskWarning(),
		JournalDamaged: s.JournalDamaged,
	}
	if s.Online != nil {
		st.Online = s.Online()
	}
	if s.DiskFree != nil {
		st.DiskFreeBytes = s.DiskFree()
	}
	if s.Clock != nil {
		clock := s.Clock.State()
		if clock.Behind > 0 {
			st.ClockBehind, st.ClockBehindS = true, clock.Behind.Seconds()
		}
		st.ClockSynced, st.ClockWrong = clock.Synced, clock.Wrong()
		if clock.SkewKnown {
			skew := clock.Skew.Seconds()
			st.ClockSkewS = &skew
		}
	}
	if pending > 0 && !oldest.IsZero() {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		st.OutboxOldestAgeS = now().Sub(oldest).Seconds()
	}
	// A failing read of the print queue leaves the jobs out rather than
	// the whole status: the kiosk shows what it can.
	jobs, _ := s.Journal.PendingJobs(ctx)
	st.PrintJobs = make([]PrintJobView, 0, len(jobs))
	for _, j := range jobs {
		st.PrintJobs = append(st.PrintJobs, PrintJobView{
			ID: j.ID, OperationID: j.OperationID, Printer: j.Printer, Format: j.Format, State: j.State,
			Attempts: j.Attempts, LastError: j.LastError, CreatedAt: j.CreatedAt, NextAttempt: j.NextAttempt,
		})
	}
	st.PrinterStates = s.Printers.Statuses()
	for _, name := range []string{PrinterLabel, PrinterReceipt} {
		ps := PrinterSummary{Up: s.Printers.Up(name), State: "ready"}
		for _, j := range jobs {
			if j.Printer == name {
				ps.Pending++
			}
		}
		if !ps.Up {
			ps.State = "offline"
			for _, p := range st.PrinterStates {
				if p.Printer == name && p.Reason != "" {
					ps.State = p.Reason
				}
			}
		}
		st.Printers[name] = ps
	}
	return st, nil
}
