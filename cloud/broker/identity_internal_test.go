package broker

import (
	"log/slog"
	"testing"
	"time"
)

// TestIdentityGuardClock: takeovers further apart than flapWindow are a
// terminal reconnecting, never a conflict; a conflict ends flapCooldown
// after it began.
func TestIdentityGuardClock(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	g := newIdentityGuard(slog.New(slog.DiscardHandler), nil)
	g.now = func() time.Time { return now }
	for i := range 10 {
		if !g.takeOver("t-1", "b", "a") {
			t.Fatalf("takeover %d, %s after the previous, refused", i, flapWindow/2+time.Second)
		}
		now = now.Add(flapWindow/2 + time.Second)
	}
	for i := range flapLimit {
		if got, want := g.takeOver("t-2", "b", "a"), i < flapLimit-1; got != want {
			t.Fatalf("takeover %d within a minute admitted = %v, want %v", i+1, got, want)
		}
	}
	now = now.Add(flapCooldown - time.Second)
	if g.takeOver("t-2", "b", "a") {
		t.Fatal("takeover admitted during the conflict's cooldown")
	}
	now = now.Add(time.Second)
	if !g.takeOver("t-2", "b", "a") {
		t.Fatal("takeover refused after the conflict's cooldown")
	}
}
