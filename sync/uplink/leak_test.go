package uplink_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine they started is
// still running at the end: a loop that does not stop is a leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
