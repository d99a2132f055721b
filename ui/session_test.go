package ui

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// memStaff is an in-memory staff store, at the edge of this unit test.
type memStaff []edge.Staff

func (m memStaff) ListStaff(context.Context) ([]edge.Staff, error) { return m, nil }
func (m memStaff) PutStaff(context.Context, edge.Staff) error      { return nil }

func TestSessionsLockoutGrows(t *testing.T) {
	hash, err := edge.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	store := memStaff{{ID: "s1", Name: "Ana", Role: edge.RoleClerk, PINHash: hash}}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	s := newSessions(time.Minute)
	s.now = func() time.Time { return now }
	ctx := context.Background()

	for i := 1; i < maxFailures; i++ {
		if _, _, err := s.signIn(ctx, store, "0000"); edge.ErrorCode(err) != edge.EUNAUTHORIZED {
			t.Fatalf("failure %d: got %v, want UNAUTHORIZED", i, err)
		}
	}
	if _, _, err := s.signIn(ctx, store, "0000"); edge.ErrorCode(err) != edge.ELOCKED {
		t.Fatalf("failure %d: got %v, want LOCKED", maxFailures, err)
	}
	// Even the right PIN is refused while locked.
	if _, _, err := s.signIn(ctx, store, "2468"); edge.ErrorCode(err) != edge.ELOCKED {
		t.Fatalf("right PIN while locked: got %v, want LOCKED", err)
	}
	first := s.lockedTo.Sub(now)
	now = now.Add(first + time.Second)
	if _, _, err := s.signIn(ctx, store, "1111"); edge.ErrorCode(err) != edge.ELOCKED {
		t.Fatalf("failure after the lock: got %v, want LOCKED again", err)
	}
	if second := s.lockedTo.Sub(now); second != 2*first {
		t.Errorf("second lock %v, want twice the first (%v)", second, first)
	}
	now = s.lockedTo.Add(time.Second)
	id, sess, err := s.signIn(ctx, store, "2468")
	if err != nil || sess.StaffID != "s1" || id == "" {
		t.Fatalf("right PIN after the lock: %v %+v", err, sess)
	}
	if s.failures != 0 {
		t.Errorf("failures %d after success, want 0", s.failures)
	}
	// The session expires after its idle time.
	if _, ok := s.get(id, true); !ok {
		t.Fatal("fresh session not found")
	}
	// Activity refreshes the idle timer; background polls do not.
	now = now.Add(40 * time.Second)
	if _, ok := s.get(id, true); !ok {
		t.Fatal("session lost within its idle time")
	}
	now = now.Add(40 * time.Second)
	if _, ok := s.get(id, false); !ok {
		t.Fatal("session lost 40 s after activity, idle time 1 min")
	}
	now = now.Add(40 * time.Second)
	if _, ok := s.get(id, false); ok {
		t.Error("polls kept the session alive past the idle timeout")
	}
}
