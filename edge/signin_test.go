package edge_test

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// TestSignInWindow checks that wrong PINs stop counting after the window,
// and that a clean window makes the next lock short again. The lockout
// through HTTP, across restarts and under parallel guesses, is tested in
// edge/cmd/comptoir-edge.
func TestSignInWindow(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	if _, err := edge.AddStaff(ctx, c.j, plainHasher, "Ana", edge.RoleClerk, "2468"); err != nil {
		t.Fatal(err)
	}
	s := edge.NewSignIn(c.j, c.j, plainHasher)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	p := s.Policy
	guess := func(n int, want string) {
		t.Helper()
		for i := range n {
			if _, err := s.SignIn(ctx, "0000"); edge.ErrorCode(err) != want {
				t.Fatalf("guess %d at %v: %v, want %s", i, now, err, want)
			}
			now = now.Add(time.Second)
		}
	}
	guess(p.MaxFailures-1, edge.EUNAUTHORIZED)
	now = now.Add(p.Window)
	guess(p.MaxFailures-1, edge.EUNAUTHORIZED)
	guess(1, edge.ELOCKED)
	until, failures, err := s.Status(ctx)
	if err != nil || failures != p.MaxFailures || until.Sub(now) > p.LockBase {
		t.Fatalf("status: until %v (now %v) failures %d %v; want a lock of at most %v", until, now, failures, err, p.LockBase)
	}
	// Malformed PINs are failures too, and are refused while locked.
	if _, err := s.SignIn(ctx, "x"); edge.ErrorCode(err) != edge.ELOCKED {
		t.Fatalf("while locked: %v", err)
	}
	now = until.Add(p.Window)
	guess(p.MaxFailures-1, edge.EUNAUTHORIZED)
	if st, err := s.SignIn(ctx, "2468"); err != nil || st.Name != "Ana" {
		t.Fatalf("right PIN: %+v %v", st, err)
	}
	guess(1, edge.ELOCKED)
	if until, _, _ := s.Status(ctx); until.Sub(now) >= p.LockBase {
		t.Errorf("lock after a clean window lasts %v, want the first lock's %v", until.Sub(now), p.LockBase)
	}
	if err := s.Unlock(ctx, "s1", edge.RoleClerk); edge.ErrorCode(err) != edge.EFORBIDDEN {
		t.Errorf("clerk unlock: %v", err)
	}
}
