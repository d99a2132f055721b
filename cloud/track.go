package cloud

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// DefaultTimeZone is the network's time zone when none is configured: the
// tracking page shows its times there.
const DefaultTimeZone = "Europe/Paris"

// MaxTrackingLen is the longest tracking number the public tracking page
// looks up; the longest carriers' numbers are about 35 characters.
const MaxTrackingLen = 64

// TrackStore is what Tracker needs of the store.
type TrackStore interface {
	// Timeline returns the timeline of tracking in scope, empty when
	// unknown (in the network's scope).
	Timeline(ctx context.Context, scope Scope, tracking string) ([]TimelineEntry, error)
	// FindTerminal returns terminal id, or ENOTFOUND.
	FindTerminal(ctx context.Context, id string) (Terminal, error)
}

// Tracker makes the public view of a parcel's timeline, for the customer
// who holds its tracking number: statuses, their times in the network's
// time zone and, for the steps at a counter, the relay point's name. It
// leaves out everything else of the timeline (terminal ids, partners'
// locations, event ids), so that the page shows nothing of a merchant that
// the customer does not already know.
type Tracker struct {
	Store TrackStore
	// Zone is the network's time zone; nil is DefaultTimeZone, or UTC
	// where the system has no time zone data.
	Zone *time.Location
}

// TrackStep is one step of the public view of a timeline.
type TrackStep struct {
	Status Status
	// At is when the step happened, in the network's time zone.
	At time.Time
	// RelayPoint is the name of the relay point where the step happened,
	// for steps made at a counter whose terminal has a name; empty
	// otherwise.
	RelayPoint string
}

// Track returns the public view of the timeline of tracking, empty when
// the parcel is unknown. A tracking number that is empty, longer than
// MaxTrackingLen or holds control characters is EINVALID.
func (t *Tracker) Track(ctx context.Context, tracking string) ([]TrackStep, error) {
	if tracking == "" || len(tracking) > MaxTrackingLen || strings.ContainsFunc(tracking, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, edge.Errorf(edge.EINVALID, "A tracking number has 1 to %d printable characters.", MaxTrackingLen)
	}
	tl, err := t.Store.Timeline(ctx, Network, tracking)
	if err != nil {
		return nil, err
	}
	zone := t.zone()
	names := map[string]string{}
	steps := make([]TrackStep, 0, len(tl))
	for _, e := range tl {
		step := TrackStep{Status: e.Status, At: e.OccurredAt.In(zone)}
		if tid, ok := strings.CutPrefix(e.Source, TerminalSource("")); ok {
			name, seen := names[tid]
			if !seen {
				if name, err = t.relayPointName(ctx, tid); err != nil {
					return nil, err
				}
				names[tid] = name
			}
			step.RelayPoint = name
		}
		steps = append(steps, step)
	}
	return steps, nil
}

// relayPointName returns the name terminal tid was enrolled with, or ""
// for a terminal the registry does not know.
func (t *Tracker) relayPointName(ctx context.Context, tid string) (string, error) {
	term, err := t.Store.FindTerminal(ctx, tid)
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return term.Name, nil
}

func (t *Tracker) zone() *time.Location {
	if t.Zone != nil {
		return t.Zone
	}
	if z, err := LoadTimeZone(DefaultTimeZone); err == nil {
		return z
	}
	return time.UTC
}

// LoadTimeZone returns the IANA time zone name (e.g. "Europe/Paris"), or an
// EINVALID error that says what is wanted.
func LoadTimeZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, edge.Errorf(edge.EINVALID, "A time zone is an IANA name such as %s.", DefaultTimeZone)
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.Join(edge.Errorf(edge.EINVALID, "Unknown time zone %q: an IANA name such as %s is wanted.", name, DefaultTimeZone), err)
	}
	return z, nil
}
