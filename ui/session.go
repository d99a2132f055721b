package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Session is a signed-in member of staff.
type Session struct {
	StaffID  string
	Name     string
	Role     string
	lastSeen time.Time
}

// sessions keeps kiosk sessions in memory: a restart signs everybody out,
// which a counter terminal can live with, and no session secret touches disk.
type sessions struct {
	idle time.Duration
	now  func() time.Time

	mu       sync.Mutex
	byID     map[string]*Session
	failures int
	lockedTo time.Time
}

func newSessions(idle time.Duration) *sessions {
	return &sessions{idle: idle, now: time.Now, byID: map[string]*Session{}}
}

// maxFailures wrong PINs in a row lock the sign-in for lockBase, doubling
// with every further failure up to lockMax: four-digit PINs are guessable
// otherwise.
const (
	maxFailures = 5
	lockBase    = 30 * time.Second
	lockMax     = 30 * time.Minute
)

// signIn finds the account whose PIN matches and opens a session.
func (s *sessions) signIn(ctx context.Context, store edge.StaffStore, pin string) (string, *Session, error) {
	s.mu.Lock()
	if until := s.lockedTo; s.now().Before(until) {
		s.mu.Unlock()
		return "", nil, edge.Errorf(edge.ELOCKED, "Too many wrong PINs: try again in %d s.", int(time.Until(until).Seconds())+1)
	}
	s.mu.Unlock()

	if err := edge.ValidatePIN(pin); err != nil {
		return "", nil, s.fail()
	}
	staff, err := store.ListStaff(ctx)
	if err != nil {
		return "", nil, err
	}
	for _, st := range staff {
		if !st.Disabled && CheckPIN(st.PINHash, pin) {
			id := newToken()
			sess := &Session{StaffID: st.ID, Name: st.Name, Role: st.Role, lastSeen: s.now()}
			s.mu.Lock()
			s.failures = 0
			s.byID[id] = sess
			s.mu.Unlock()
			return id, sess, nil
		}
	}
	return "", nil, s.fail()
}

func (s *sessions) fail() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures++
	if s.failures >= maxFailures {
		d := min(lockBase<<(s.failures-maxFailures), lockMax)
		s.lockedTo = s.now().Add(d)
		return edge.Errorf(edge.ELOCKED, "Too many wrong PINs: locked for %d s.", int(d.Seconds()))
	}
	return edge.Errorf(edge.EUNAUTHORIZED, "Wrong PIN.")
}

// get returns the live session of id and, when touch is set, refreshes
// its idle timer. touch says whether the request is the clerk's activity:
// the kiosk's background polls (status, session) must not keep an
// unattended counter signed in forever.
func (s *sessions) get(id string, touch bool) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok {
		return Session{}, false
	}
	now := s.now()
	if now.Sub(sess.lastSeen) > s.idle {
		delete(s.byID, id)
		return Session{}, false
	}
	if touch {
		sess.lastSeen = now
	}
	return *sess, true
}

// signOutStaff ends every session of a member of staff, who was disabled.
func (s *sessions) signOutStaff(staffID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.byID {
		if sess.StaffID == staffID {
			delete(s.byID, id)
		}
	}
}

func (s *sessions) signOut(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
