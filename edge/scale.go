package edge

import (
	"sync"
	"time"
)

// ScaleState is what a counter scale says of its reading.
type ScaleState string

// States of a scale's reading. The values are part of the kiosk's API.
const (
	// ScaleStable: the weight has settled; it may be used.
	ScaleStable ScaleState = "stable"
	// ScaleUnstable: the pan is still moving.
	ScaleUnstable ScaleState = "unstable"
	// ScaleOverload: more than the scale's capacity.
	ScaleOverload ScaleState = "overload"
	// ScaleNegative: under zero (the pan was tared with something on it,
	// or needs zeroing).
	ScaleNegative ScaleState = "negative"
	// ScaleFault: the scale reports an error (calibration, zeroing).
	ScaleFault ScaleState = "fault"
	// ScaleSilent: no reading lately (unplugged, off, wrong port or
	// speed). Only the Weigher says it; a scale never reports it.
	ScaleSilent ScaleState = "silent"
)

// ScaleReading is one reading of a counter scale.
type ScaleReading struct {
	// Milligrams is the weight shown, converted from the scale's unit;
	// negative under zero. Meaningless in ScaleOverload and ScaleFault.
	Milligrams int64
	State      ScaleState
}

// Grams returns the reading rounded to the nearest gram (halves away from
// zero), the unit of deposits.
func (r ScaleReading) Grams() int {
	if r.Milligrams < 0 {
		return -int((-r.Milligrams + 500) / 1000)
	}
	return int((r.Milligrams + 500) / 1000)
}

// MinWeightG is the lightest plausible parcel: a stable reading below it
// is an empty pan, not a weight to deposit.
const MinWeightG = 10

// DefaultScaleStale is how old the last reading may be before the Weigher
// calls the scale silent: counter scales answer several times a second.
const DefaultScaleStale = 3 * time.Second

// ScaleFeed holds the latest reading of a scale. The adapter that reads the
// device puts each reading in it; the Weigher reads the latest. It is safe
// for concurrent use; its zero value has no reading.
type ScaleFeed struct {
	mu   sync.Mutex
	last ScaleReading
	at   time.Time
	n    uint64
}

// Put records r, read at time at.
func (f *ScaleFeed) Put(r ScaleReading, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last, f.at = r, at
	f.n++
}

// Latest returns the last reading, when it was read and how many readings
// came so far (0: none, and the reading is zero).
func (f *ScaleFeed) Latest() (r ScaleReading, at time.Time, n uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, f.at, f.n
}

// Weighing is what the deposit screen shows of the scale.
type Weighing struct {
	State ScaleState `json:"state"`
	// Grams is the weight read, rounded to the gram; 0 when the state
	// carries no weight (overload, fault, silent).
	Grams int `json:"grams"`
	// Ready is true when Grams may be deposited as it is: stable, at least
	// MinWeightG and not over the limit asked for.
	Ready bool `json:"ready"`
	// Refusal is OVERWEIGHT for a stable weight over the limit asked for.
	Refusal RefusalCode `json:"refusal,omitempty"`
}

// Weigher is the use case of weighing a parcel on a counter scale: it turns
// the scale's latest reading into what the clerk may do with it.
type Weigher struct {
	Feed *ScaleFeed
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Stale is how old a reading may be before the scale is called
	// silent; DefaultScaleStale when zero.
	Stale time.Duration
}

// Weigh returns the weighing of the latest reading against maxG (the
// heaviest parcel accepted; 0: no limit). A Weigher without a feed (no
// scale configured) returns ENOTFOUND, so that the kiosk asks for the
// weight to be typed.
func (w *Weigher) Weigh(maxG int) (Weighing, error) {
	if w == nil || w.Feed == nil {
		return Weighing{}, Errorf(ENOTFOUND, "No scale is configured: type the weight.")
	}
	r, at, n := w.Feed.Latest()
	now, stale := time.Now, w.Stale
	if w.Now != nil {
		now = w.Now
	}
	if stale <= 0 {
		stale = DefaultScaleStale
	}
	if n == 0 || now().Sub(at) > stale {
		return Weighing{State: ScaleSilent}, nil
	}
	out := Weighing{State: r.State}
	switch r.State {
	case ScaleStable, ScaleUnstable, ScaleNegative:
		out.Grams = r.Grams()
	default:
		return Weighing{State: r.State}, nil
	}
	if r.State == ScaleStable && out.Grams >= MinWeightG {
		if maxG > 0 && out.Grams > maxG {
			out.Refusal = Overweight
		} else {
			out.Ready = true
		}
	}
	return out, nil
}
