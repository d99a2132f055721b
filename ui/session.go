package ui

import (
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
// Who may sign in, and the lockout, are the edge.SignIn use case's.
type sessions struct {
	idle time.Duration
	now  func() time.Time

	mu   sync.Mutex
	byID map[string]*Session
}

func newSessions(idle time.Duration) *sessions {
	return &sessions{idle: idle, now: time.Now, byID: map[string]*Session{}}
}

// open starts a session of st and returns its id.
func (s *sessions) open(st edge.Staff) (string, Session) {
	id := newToken()
	sess := &Session{StaffID: st.ID, Name: st.Name, Role: st.Role, lastSeen: s.now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[id] = sess
	return id, *sess
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
