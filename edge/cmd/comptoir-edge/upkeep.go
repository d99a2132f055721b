package main

import (
	"context"
	"fmt"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Timings of the upkeep loop (variables so that tests shorten them).
var (
	// compactEvery is the period of journal compaction; the first one
	// runs compactFirst after start, out of the way of a morning rush.
	compactEvery = 6 * time.Hour
	compactFirst = time.Minute
	// statusCheckEvery is how often the figures the fleet watches are
	// compared with those last published.
	statusCheckEvery = 5 * time.Second
)

// upkeep runs the journal's upkeep policy (edge.Upkeep: personal data
// scrubbed a retention period after a return ended, acked operations
// compacted after the history's; unacked ones are never touched) and
// republishes the retained
// status when a figure operators act on changes: a printer goes down or
// up, the journal passes 80 % of its disk budget, the backlog empties or
// starts, the clock is found wrong or unsynced (the cloud then answers
// with its time). The uplink republishes it every minute anyway.
func (m *Main) upkeep(ctx context.Context) {
	log := m.Logger.With("component", "upkeep")
	compact := time.NewTimer(compactFirst)
	defer compact.Stop()
	check := time.NewTicker(statusCheckEvery)
	defer check.Stop()
	last, warned := m.statusKey(ctx), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-compact.C:
			if err := m.upkeepPolicy.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("journal upkeep", "error", err)
			}
			compact.Reset(compactEvery)
		case <-check.C:
			if w := m.journal.DiskWarning(); w != warned {
				warned = w
				if w {
					log.Warn("journal past 80 % of its disk budget: deposits will be refused when it is spent",
						"used_bytes", m.journal.DiskUsage(), "budget_bytes", m.journal.DiskBudget())
				}
			}
			m.noteClock()
			if k := m.statusKey(ctx); k != last {
				last = k
				m.uplink.PublishStatus()
			}
		}
	}
}

// statusKey sums up the status figures whose change is worth a publish.
func (m *Main) statusKey(ctx context.Context) string {
	pending, _, _ := m.journal.OutboxStats(ctx)
	clock := m.clock.State()
	return fmt.Sprint(m.runner.Up(edge.PrinterLabel), m.runner.Up(edge.PrinterReceipt), m.journal.DiskWarning(), pending == 0,
		clock.Synced, clock.Wrong())
}
