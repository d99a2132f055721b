package edge

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// DefaultRetention is how long the personal data of a customer's return
// stays in the journal after the return ended (its parcel handed over or
// its deposit cancelled): long enough for a dispute at the counter ("I
// left it here a fortnight ago"), no longer. The cloud holds the return
// by then.
const DefaultRetention = 30 * 24 * time.Hour

// DefaultHistoryRetention is how long the skeleton of an acked operation
// stays: past a year and a month, so that last year's month statements
// can be checked at the counter.
const DefaultHistoryRetention = 400 * 24 * time.Hour

// UpkeepJournal is what the upkeep policy needs of the journal.
type UpkeepJournal interface {
	// Scrub erases the personal data of the returns that ended before
	// cutoff (their items, a cancellation's reason, their labels and
	// receipts), keeping each operation's skeleton, and returns the number
	// of operations scrubbed. Only operations the cloud acked are touched.
	Scrub(ctx context.Context, cutoff time.Time) (int, error)
	// Compact deletes the acked operations that occurred more than retain
	// ago and the print jobs done more than retain ago, and returns the
	// number of operations deleted. Unacked operations are never deleted.
	Compact(ctx context.Context, retain time.Duration) (int, error)
}

// Upkeep is the journal's upkeep policy: data minimisation and storage
// limitation. A customer's return is kept whole while it may be needed at
// the counter, then scrubbed to its skeleton (ids, seq, type, times,
// tracking, carrier, weight) Retention after it ended; skeletons, which
// the counts and month statements read, go HistoryRetention after they
// occurred. Its fields are set once by the wiring code.
type Upkeep struct {
	Journal UpkeepJournal
	// Retention is how long personal data stays after a return ended;
	// DefaultRetention when 0.
	Retention time.Duration
	// HistoryRetention is how long acked operations stay;
	// DefaultHistoryRetention when 0.
	HistoryRetention time.Duration
	// Now is the clock (the trusted clock: a clock set back must not keep
	// data longer, nor one set forward erase it early beyond what the
	// journal's floor allows); time.Now when nil.
	Now func() time.Time
	// Logger receives what was erased; slog.Default() when nil.
	Logger *slog.Logger
}

// Run scrubs then compacts once. Errors are the journal's.
func (u *Upkeep) Run(ctx context.Context) error {
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	retention, history := u.Retention, u.HistoryRetention
	if retention <= 0 {
		retention = DefaultRetention
	}
	if history <= 0 {
		history = DefaultHistoryRetention
	}
	log := u.Logger
	if log == nil {
		log = slog.Default()
	}
	scrubbed, err := u.Journal.Scrub(ctx, now().Add(-retention))
	if err != nil {
		return fmt.Errorf("upkeep: %w", err)
	}
	deleted, err := u.Journal.Compact(ctx, history)
	if err != nil {
		return fmt.Errorf("upkeep: %w", err)
	}
	if scrubbed > 0 || deleted > 0 {
		log.Info("journal upkeep", "scrubbed", scrubbed, "deleted", deleted, "retention", retention.String(), "history_retention", history.String())
	}
	return nil
}
