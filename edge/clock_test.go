package edge_test

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// TestTrustedClock moves the system clock back and forward under a clock
// whose floor is the last journalled operation.
func TestTrustedClock(t *testing.T) {
	last := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	wall, elapsed := last.Add(time.Minute), time.Duration(0)
	c := edge.NewTrustedClock(last)
	c.Wall = func() time.Time { return wall }
	c.Elapsed = func() time.Duration { return elapsed }

	if got := c.Now(); !got.Equal(wall) || c.Behind() != 0 {
		t.Fatalf("clock ahead of the floor: %v behind %v, want the system's %v", got, c.Behind(), wall)
	}
	// A power cut: the clock restarts in 2001; the counter runs from the
	// last operation plus the time since start.
	wall, elapsed = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), 10*time.Second
	if got, want := c.Now(), last.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("clock in 2001: %v, want %v", got, want)
	}
	if b := c.Behind(); b < 25*365*24*time.Hour {
		t.Errorf("behind %v, want about 26 years", b)
	}
	// An operation journalled then is a floor too.
	c.Observe(last.Add(10 * time.Second))
	elapsed = 20 * time.Second
	if got, want := c.Now(), last.Add(20*time.Second); !got.Equal(want) {
		t.Errorf("after an observed operation: %v, want %v", got, want)
	}
	// Within the tolerance the system clock is not called behind.
	wall = last.Add(20*time.Second - edge.ClockTolerance/2)
	if b := c.Behind(); b != 0 {
		t.Errorf("behind %v within the tolerance, want 0", b)
	}
	// NTP comes back: the system clock is right again and believed.
	wall = time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	if got := c.Now(); !got.Equal(wall) || c.Behind() != 0 {
		t.Errorf("clock set right: %v behind %v, want %v", got, c.Behind(), wall)
	}
}

// TestTrustedClockSync reads the cloud's time under a system clock that is
// right, behind, ahead, and then set right, and lets the reading age.
func TestTrustedClockSync(t *testing.T) {
	cloud := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	wall, elapsed := cloud, time.Duration(0)
	c := edge.NewTrustedClock(time.Time{})
	c.Wall = func() time.Time { return wall }
	c.Elapsed = func() time.Duration { return elapsed }

	if st := c.State(); st.Synced || st.SkewKnown || st.Wrong() {
		t.Fatalf("before any reading of the cloud's time: %+v, want unsynced, skew unknown, not wrong", st)
	}
	c.Sync(cloud)
	if st := c.State(); !st.Synced || !st.SkewKnown || st.Skew != 0 || st.Wrong() {
		t.Errorf("system clock on the cloud's: %+v, want synced, skew 0", st)
	}

	// The system clock jumps an hour ahead: it is wrong, and the counter's
	// time (the system's, as the floor cannot step back) is not synced.
	elapsed, wall = time.Minute, cloud.Add(time.Minute+time.Hour)
	if st := c.State(); st.Synced || st.Skew != time.Hour || !st.Wrong() {
		t.Errorf("system clock an hour ahead: %+v, want unsynced, skew 1h, wrong", st)
	}

	// Restarted two days behind, the cloud's time read again: the counter
	// runs from it, so its time is synced, and the system clock is wrong.
	c = edge.NewTrustedClock(time.Time{})
	c.Wall = func() time.Time { return wall }
	c.Elapsed = func() time.Duration { return elapsed }
	elapsed, wall = 0, cloud.Add(-48*time.Hour)
	c.Sync(cloud)
	elapsed, wall = 10*time.Second, wall.Add(10*time.Second)
	st := c.State()
	if got, want := c.Now(), cloud.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("system clock two days behind, after a reading: now %v, want the cloud's %v", got, want)
	}
	if !st.Synced || st.Skew != -48*time.Hour || st.Behind < 47*time.Hour || !st.Wrong() {
		t.Errorf("system clock two days behind: %+v, want synced, skew -48h, behind, wrong", st)
	}
	// NTP sets the system clock right: the skew shows it at once.
	wall = cloud.Add(10 * time.Second)
	if st := c.State(); !st.Synced || st.Skew != 0 || st.Wrong() {
		t.Errorf("system clock set right: %+v, want synced, skew 0, not wrong", st)
	}
	// A day without a reading: no longer synced, the skew still known.
	elapsed, wall = edge.ClockSyncValidity+time.Minute, cloud.Add(edge.ClockSyncValidity+time.Minute)
	if st := c.State(); st.Synced || !st.SkewKnown || st.Wrong() {
		t.Errorf("a day after the last reading: %+v, want unsynced, not wrong", st)
	}
	c.Sync(time.Time{})
	if c.Synced() {
		t.Error("a zero time of the cloud counted as a reading")
	}
}
