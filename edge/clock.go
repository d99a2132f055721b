package edge

import (
	"sync"
	"time"
)

// ClockTolerance is how far the system clock may be behind the trusted
// time before the counter says its clock is wrong: small steps of NTP are
// not worth an alert.
const ClockTolerance = 5 * time.Second

// ClockSyncValidity is how long a reading of the cloud's time vouches for
// the counter's: the monotonic clock that carries it forward drifts by a
// few seconds a day at most.
const ClockSyncValidity = 24 * time.Hour

// TrustedClock is the counter's clock. Shop terminals often have no clock
// battery: after a power cut with no network, the system clock may restart
// in the past, and then every return code would be NOT_YET_VALID, receipts
// would print a false date and hold times would be wrong. The time of the
// last journalled operation is a floor: the counter's time is the system
// clock's, unless that is behind the floor plus the time elapsed since the
// agent started (a monotonic reading, which no change of the system clock
// moves), in which case the latter is used and Behind says so. It is safe
// for concurrent use.
type TrustedClock struct {
	// Wall is the system clock; time.Now when nil.
	Wall func() time.Time
	// Elapsed is the monotonic time since the clock was made; it is
	// time.Since of the start when nil.
	Elapsed func() time.Duration

	start time.Time // with its monotonic reading

	mu    sync.Mutex
	floor time.Time
	// cloud is the cloud's time at the last Sync, read when elapsed was
	// synced.
	cloud  time.Time
	synced time.Duration
}

// NewTrustedClock returns a clock whose floor is floor (the time of the
// last journalled operation; zero for a new terminal).
func NewTrustedClock(floor time.Time) *TrustedClock {
	return &TrustedClock{start: time.Now(), floor: floor}
}

func (c *TrustedClock) wall() time.Time {
	if c.Wall != nil {
		return c.Wall()
	}
	return time.Now()
}

func (c *TrustedClock) elapsed() time.Duration {
	if c.Elapsed != nil {
		return c.Elapsed()
	}
	return time.Since(c.start)
}

// Now returns the trusted time: the system clock's, or the floor plus the
// time elapsed since start when the system clock is behind it. It is never
// before an observed operation (see Observe), so that a clock set back
// cannot date an operation before the one journalled before it.
func (c *TrustedClock) Now() time.Time {
	wall := c.wall().Round(0) // wall time only: the monotonic part is the process's
	c.mu.Lock()
	defer c.mu.Unlock()
	if least := c.floor.Add(c.elapsed()); wall.Before(least) {
		return least
	}
	return wall
}

// Behind returns how far the system clock is behind the trusted time, 0
// when it is not behind by more than ClockTolerance.
func (c *TrustedClock) Behind() time.Duration {
	wall := c.wall().Round(0)
	c.mu.Lock()
	least := c.floor.Add(c.elapsed())
	c.mu.Unlock()
	if d := least.Sub(wall); d > ClockTolerance {
		return d
	}
	return 0
}

// Observe raises the floor to t, the time of an operation known to have
// happened (one journalled, or the time of a message of the cloud), minus
// the time elapsed since start, so that Now is never before t.
func (c *TrustedClock) Observe(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := t.Round(0).Add(-c.elapsed()); f.After(c.floor) {
		c.floor = f
	}
}

// Sync records the cloud's time at, read from a message just received
// (an ack): the system clock's skew against it is measured, and at becomes
// a floor (Observe), so a system clock behind the cloud's is not believed.
// A system clock ahead of the cloud's is only reported (State): the floor
// keeps operations in order, so the counter cannot step back to the
// cloud's time. A zero at is ignored.
func (c *TrustedClock) Sync(at time.Time) {
	if at.IsZero() {
		return
	}
	at = at.Round(0)
	c.Observe(at)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cloud, c.synced = at, c.elapsed()
}

// ClockState is what the counter knows of its clock.
type ClockState struct {
	// Synced is true when the counter's time agrees (within
	// ClockTolerance) with the cloud's, read less than ClockSyncValidity
	// ago and carried forward by the monotonic clock. Receipts say it.
	Synced bool
	// Behind is how far the system clock is behind the trusted time (the
	// last journalled operation or the cloud's time), 0 within
	// ClockTolerance; the counter then runs from that time.
	Behind time.Duration
	// Skew is the system clock's offset from the cloud's time (positive:
	// ahead), when SkewKnown: the cloud's time last read, carried forward
	// by the monotonic clock, so a system clock set right since shows at
	// once.
	Skew      time.Duration
	SkewKnown bool
	// SyncAge is how long ago the cloud's time was last read (SkewKnown).
	SyncAge time.Duration
}

// Wrong reports whether the system clock is known to be wrong: behind the
// trusted time, or off the cloud's by more than ClockTolerance.
func (s ClockState) Wrong() bool {
	return s.Behind > 0 || s.SkewKnown && (s.Skew > ClockTolerance || s.Skew < -ClockTolerance)
}

// State returns what is known of the clock now.
func (c *TrustedClock) State() ClockState {
	now, behind := c.Now(), c.Behind()
	wall, elapsed := c.wall().Round(0), c.elapsed()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ClockState{Behind: behind}
	if c.cloud.IsZero() {
		return st
	}
	st.SkewKnown, st.SyncAge = true, elapsed-c.synced
	cloudNow := c.cloud.Add(st.SyncAge)
	st.Skew = wall.Sub(cloudNow)
	off := now.Sub(cloudNow)
	st.Synced = st.SyncAge < ClockSyncValidity && off <= ClockTolerance && off >= -ClockTolerance
	return st
}

// Synced reports whether the counter's time agrees with the cloud's (see
// ClockState.Synced).
func (c *TrustedClock) Synced() bool { return c.State().Synced }
