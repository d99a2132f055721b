package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// SignInState is the lockout state of a terminal's sign-in. It is kept in
// the journal, so that pulling the plug does not clear a lock.
type SignInState struct {
	// Failures are the times of the wrong PINs within the policy's window,
	// oldest first; an attempt in progress is among them (see SignIn).
	Failures []time.Time `json:"failures,omitempty"`
	// Locks counts the locks since the window was last clean: each lock
	// lasts twice the one before.
	Locks int `json:"locks,omitempty"`
	// LockedUntil is the end of the lock in force, if any.
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// SignInStore keeps the SignInState durably.
type SignInStore interface {
	// SignInState returns the stored state, the zero state when none.
	SignInState(ctx context.Context) (SignInState, error)
	// PutSignInState replaces the state, durably (fsync) before it returns.
	PutSignInState(ctx context.Context, st SignInState) error
}

// SignInPolicy says when wrong PINs lock the sign-in.
type SignInPolicy struct {
	// MaxFailures wrong PINs within Window lock the sign-in.
	MaxFailures int
	// Window is how long a wrong PIN counts; a right PIN does not clear it.
	Window time.Duration
	// LockBase is the first lock, doubled on each further lock up to LockMax.
	LockBase time.Duration
	LockMax  time.Duration
}

// DefaultSignInPolicy locks after 5 wrong PINs within an hour, for 30 s,
// then 1, 2, 4... min up to 30 min. A four-digit clerk PIN then takes weeks
// to guess at the counter, and a six-digit manager PIN years.
func DefaultSignInPolicy() SignInPolicy {
	return SignInPolicy{MaxFailures: 5, Window: time.Hour, LockBase: 30 * time.Second, LockMax: 30 * time.Minute}
}

// SignInEvent names what a sign-in attempt ended in, for metrics.
type SignInEvent string

// Events of SignIn.Observe.
const (
	SignInFailed   SignInEvent = "failure" // a wrong or malformed PIN
	SignInLocked   SignInEvent = "lock"    // a wrong PIN that locked the sign-in
	SignInRefused  SignInEvent = "refused" // an attempt refused while locked, not evaluated
	SignInUnlocked SignInEvent = "unlock"  // a manager lifted the lock
)

// SignIn is the counter's sign-in use case: staff sign in with their PIN
// alone. Wrong PINs are counted per terminal (the PIN is what tells who is
// trying), in a sliding window that a right PIN does not clear, and lock
// the sign-in for a time that doubles with each lock. One attempt is
// evaluated at a time, and it is counted as a failure in the store before
// its hash is computed: parallel guesses cannot slip past the count, and a
// crash during the check costs the guesser, not the count. Its fields are set
// once by the wiring code.
type SignIn struct {
	Staff  StaffStore
	State  SignInStore
	Hasher PINHasher
	Policy SignInPolicy
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives failures and locks, never a PIN; slog.Default() when nil.
	Logger *slog.Logger
	// Observe, when set, is told of every failure, lock, refusal and unlock.
	Observe func(SignInEvent)

	// turn admits one attempt at a time; NewSignIn makes it.
	turn chan struct{}
}

// NewSignIn returns a SignIn with the default policy.
func NewSignIn(staff StaffStore, state SignInStore, h PINHasher) *SignIn {
	return &SignIn{Staff: staff, State: state, Hasher: h, Policy: DefaultSignInPolicy(), turn: make(chan struct{}, 1)}
}

func (s *SignIn) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *SignIn) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *SignIn) observe(e SignInEvent) {
	if s.Observe != nil {
		s.Observe(e)
	}
}

// acquire waits for the turn of one attempt.
func (s *SignIn) acquire(ctx context.Context) (func(), error) {
	if s.turn == nil {
		panic("edge: a SignIn must be made by NewSignIn")
	}
	select {
	case s.turn <- struct{}{}:
		return func() { <-s.turn }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("sign in: %w", ctx.Err())
	}
}

// SignIn returns the enabled account whose PIN is pin. It returns
// UNAUTHORIZED for a wrong or malformed PIN, LOCKED when this attempt locked
// the sign-in or a lock is in force (the PIN is then not even checked).
func (s *SignIn) SignIn(ctx context.Context, pin string) (Staff, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return Staff{}, err
	}
	defer release()
	st, err := s.State.SignInState(ctx)
	if err != nil {
		return Staff{}, fmt.Errorf("sign in: %w", err)
	}
	now := s.now()
	if err := s.refuseLocked(st, now); err != nil {
		return Staff{}, err
	}
	// Reserve the attempt: it is a failure until the PIN proves right.
	st = s.prune(st, now)
	st.Failures = append(st.Failures, now)
	if err := s.State.PutSignInState(ctx, st); err != nil {
		return Staff{}, fmt.Errorf("sign in: %w", err)
	}
	staff, found, err := s.find(ctx, pin)
	if err != nil {
		return Staff{}, fmt.Errorf("sign in: %w", err)
	}
	if !found {
		return Staff{}, s.failed(ctx, st, now, "wrong PIN")
	}
	st.Failures = st.Failures[:len(st.Failures)-1]
	if err := s.State.PutSignInState(ctx, st); err != nil {
		return Staff{}, fmt.Errorf("sign in: %w", err)
	}
	return staff, nil
}

// refuseLocked returns LOCKED while a lock is in force.
func (s *SignIn) refuseLocked(st SignInState, now time.Time) error {
	if !now.Before(st.LockedUntil) {
		return nil
	}
	s.observe(SignInRefused)
	left := int(st.LockedUntil.Sub(now).Seconds()) + 1
	return Errorf(ELOCKED, "Too many wrong PINs: try again in %d s, or ask a manager to unlock.", left)
}

// find returns the enabled account whose PIN is pin.
func (s *SignIn) find(ctx context.Context, pin string) (Staff, bool, error) {
	if ValidatePIN(pin) != nil {
		return Staff{}, false, nil
	}
	all, err := s.Staff.ListStaff(ctx)
	if err != nil {
		return Staff{}, false, err
	}
	for _, st := range all {
		if !st.Disabled && s.Hasher.Check(st.PINHash, pin) {
			return st, true, nil
		}
	}
	return Staff{}, false, nil
}

// failed records the failure already reserved in st, locks when the window
// holds too many, and returns the error the attempt answers.
func (s *SignIn) failed(ctx context.Context, st SignInState, now time.Time, why string) error {
	p := s.Policy
	s.observe(SignInFailed)
	s.log().Warn("sign-in failed", "reason", why, "failures_in_window", len(st.Failures))
	if len(st.Failures) < p.MaxFailures {
		return Errorf(EUNAUTHORIZED, "Wrong PIN.")
	}
	st.Locks++
	d := p.LockMax
	if st.Locks <= 30 {
		d = min(p.LockBase<<(st.Locks-1), p.LockMax)
	}
	st.LockedUntil = now.Add(d)
	if err := s.State.PutSignInState(ctx, st); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	s.observe(SignInLocked)
	s.log().Warn("sign-in locked", "failures_in_window", len(st.Failures), "lock", st.Locks, "for", d.String())
	return Errorf(ELOCKED, "Too many wrong PINs: locked for %d s.", int(d.Seconds()))
}

// prune drops the failures older than the window; a clean window also
// forgets the past locks, so that the next lock starts short again.
func (s *SignIn) prune(st SignInState, now time.Time) SignInState {
	from := now.Add(-s.Policy.Window)
	kept := st.Failures[:0:0]
	for _, t := range st.Failures {
		if t.After(from) {
			kept = append(kept, t)
		}
	}
	st.Failures = kept
	if len(kept) == 0 && !now.Before(st.LockedUntil) {
		st.Locks = 0
	}
	return st
}

// Unlock lifts the lock and forgets the failures; by is the staff id of the
// manager who asked. FORBIDDEN unless role is manager.
func (s *SignIn) Unlock(ctx context.Context, by, role string) error {
	if role != RoleManager {
		return Errorf(EFORBIDDEN, "Only a manager may unlock the sign-in.")
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := s.State.PutSignInState(ctx, SignInState{}); err != nil {
		return fmt.Errorf("unlock sign in: %w", err)
	}
	s.observe(SignInUnlocked)
	s.log().Info("sign-in unlocked", "by", by)
	return nil
}

// Status returns the lock in force (zero when none) and the wrong PINs
// counted in the window.
func (s *SignIn) Status(ctx context.Context) (lockedUntil time.Time, failures int, err error) {
	st, err := s.State.SignInState(ctx)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("sign-in status: %w", err)
	}
	now := s.now()
	st = s.prune(st, now)
	if now.Before(st.LockedUntil) {
		lockedUntil = st.LockedUntil
	}
	return lockedUntil, len(st.Failures), nil
}

// AddStaff creates an account as the package's AddStaff does, from a
// signed-in manager's session, without telling whether a PIN is taken:
// that would let a manager find colleagues' PINs. A PIN already in use is
// refused with the message of any unusable PIN, and counted as a wrong PIN
// of the sign-in (it is one guess), so that this way of guessing is as slow
// as the sign-in itself.
func (s *SignIn) AddStaff(ctx context.Context, by, name, role, pin string) (Staff, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return Staff{}, err
	}
	st, err := s.State.SignInState(ctx)
	if err != nil {
		release()
		return Staff{}, fmt.Errorf("add staff: %w", err)
	}
	now := s.now()
	if err := s.refuseLocked(st, now); err != nil {
		release()
		return Staff{}, err
	}
	added, err := AddStaff(ctx, s.Staff, s.Hasher, name, role, pin)
	if !errors.Is(err, ErrPINTaken) {
		release()
		return added, err
	}
	defer release()
	st = s.prune(st, now)
	st.Failures = append(st.Failures, now)
	if err := s.State.PutSignInState(ctx, st); err != nil {
		return Staff{}, fmt.Errorf("add staff: %w", err)
	}
	if lock := s.failed(ctx, st, now, "PIN in use at staff add by "+by); ErrorCode(lock) == ELOCKED {
		return Staff{}, lock
	}
	return Staff{}, Errorf(EINVALID, "This PIN cannot be used: choose another.")
}
