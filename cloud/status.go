package cloud

import (
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// EInvalidStatus is the code of a status message CheckStatus refuses; the
// ingest keeps it as a dead letter of that reason.
const EInvalidStatus = "INVALID_STATUS"

// Bounds of a terminal's status message (CheckStatus).
const (
	// MaxStatusPrinters bounds the printers of a status: each becomes a
	// metric series of the fleet.
	MaxStatusPrinters = 8
	// maxStatusText bounds the version and a printer's state.
	maxStatusText = 64
	// statusFuture is how far ahead of the cloud's clock a status may be
	// dated.
	statusFuture = 24 * time.Hour
)

// statusEpoch is the earliest date a status may carry: before it, the
// terminal's clock is not set.
var statusEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// printerName is the shape of a printer's name in a status.
var printerName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// CheckStatus checks a terminal's status message before the registry and
// the fleet metrics take it: at most MaxStatusPrinters printers named
// [a-z0-9_-]{1,32}, no negative figure, short texts, and a date (when it
// has one) neither before 2020 nor more than a day ahead of now. It
// returns an *edge.Error of code EInvalidStatus naming the fault.
func CheckStatus(st wire.Status, now time.Time) error {
	bad := func(format string, args ...any) error {
		return edge.Errorf(EInvalidStatus, "status: %s", fmt.Sprintf(format, args...))
	}
	switch {
	case len(st.Printers) > MaxStatusPrinters:
		return bad("%d printers, at most %d", len(st.Printers), MaxStatusPrinters)
	case st.OutboxPending < 0:
		return bad("outbox_pending %d is negative", st.OutboxPending)
	case st.OutboxOldestAgeS < 0 || math.IsNaN(st.OutboxOldestAgeS) || math.IsInf(st.OutboxOldestAgeS, 0):
		return bad("outbox_oldest_age_s %g is not an age", st.OutboxOldestAgeS)
	case st.Shelf < 0:
		return bad("shelf %d is negative", st.Shelf)
	case len(st.Version) > maxStatusText:
		return bad("version is longer than %d bytes", maxStatusText)
	case !st.At.IsZero() && (st.At.Before(statusEpoch) || st.At.After(now.Add(statusFuture))):
		return bad("at %s is not a plausible date", st.At.UTC().Format(time.RFC3339))
	}
	for name, p := range st.Printers {
		switch {
		case !printerName.MatchString(name):
			return bad("printer name %.40q is not [a-z0-9_-]{1,32}", name)
		case p.Pending < 0:
			return bad("printer %s: pending %d is negative", name, p.Pending)
		case len(p.State) > maxStatusText:
			return bad("printer %s: state is longer than %d bytes", name, maxStatusText)
		}
	}
	return nil
}
