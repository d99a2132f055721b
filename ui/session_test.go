package ui

import (
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

func TestSessionsIdle(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	s := newSessions(time.Minute)
	s.now = func() time.Time { return now }
	id, sess := s.open(edge.Staff{ID: "s1", Name: "Ana", Role: edge.RoleClerk})
	if sess.StaffID != "s1" || id == "" {
		t.Fatalf("open: %q %+v", id, sess)
	}
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
	id2, _ := s.open(edge.Staff{ID: "s2", Role: edge.RoleClerk})
	s.signOutStaff("s2")
	if _, ok := s.get(id2, false); ok {
		t.Error("session of a disabled member of staff still open")
	}
}
