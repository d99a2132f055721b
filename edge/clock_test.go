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
