package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// The sign-in's lockout through the real HTTP stack of an offline terminal:
// the attacks of issue 16 (interleaved guesses, a restart, parallel guesses)
// and the manager's unlock.

// signInClock is a sign-in clock the test moves by hand, so that no
// assertion depends on how fast the machine is.
type signInClock struct{ ns atomic.Int64 }

func newSignInClock() *signInClock {
	c := &signInClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *signInClock) now() time.Time        { return time.Unix(0, c.ns.Load()) }
func (c *signInClock) later(d time.Duration) { c.ns.Add(int64(d)) }

// runTerminal starts a Main in dir (prepared by offlineTerminal) with the
// sign-in on clock, without signing in.
func runTerminal(t *testing.T, dir string, clock *signInClock) *Main {
	t.Helper()
	m := NewMain()
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Config.DataDir, m.Config.HTTPAddr, m.Config.Demo = dir, "127.0.0.1:0", true
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("terminal run: %v", err)
	}
	m.signIn.Now = clock.now
	return m
}

// signInAs posts pin and returns the status and error code.
func signInAs(c *client, pin string) (int, string) {
	var e apiError
	code := c.do("POST", "/api/session", map[string]string{"pin": pin}, &e)
	return code, e.Error.Code
}

// metricValue reads one sample of the kiosk's /metrics.
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestSignInLockHoldsAcrossRightPINsAndRestarts(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-lock", token.NewTrustList())
	clock := newSignInClock()
	m := runTerminal(t, dir, clock)

	manager := newClient(t, m.URL())
	if code, _ := signInAs(manager, demoManagerPIN); code != http.StatusCreated {
		t.Fatalf("manager sign in: %d", code)
	}
	// Four wrong, one right, four wrong... the right PIN clears nothing.
	kiosk := newClient(t, m.URL())
	guesses := []string{"0000", "0001", "0002", "0003", "1234", "0004"}
	for i, pin := range guesses {
		code, ecode := signInAs(kiosk, pin)
		switch {
		case pin == "1234" && code != http.StatusCreated:
			t.Fatalf("guess %d (right PIN): %d %s, want 201", i, code, ecode)
		case pin != "1234" && i < len(guesses)-1 && code != http.StatusUnauthorized:
			t.Fatalf("guess %d: %d %s, want 401", i, code, ecode)
		case i == len(guesses)-1 && (code != http.StatusTooManyRequests || ecode != edge.ELOCKED):
			t.Fatalf("fifth wrong PIN after a right one: %d %s, want 429 LOCKED", code, ecode)
		}
	}
	if code, ecode := signInAs(kiosk, "1234"); ecode != edge.ELOCKED {
		t.Fatalf("right PIN while locked: %d %s, want LOCKED", code, ecode)
	}
	if got := metricValue(t, m.URL(), "comptoir_edge_signin_failures_total"); got != 5 {
		t.Errorf("signin failures metric %v, want 5", got)
	}
	if got := metricValue(t, m.URL(), "comptoir_edge_signin_locks_total"); got != 1 {
		t.Errorf("signin locks metric %v, want 1", got)
	}

	// A restart on the same data dir keeps the lock.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = runTerminal(t, dir, clock)
	t.Cleanup(func() { m.Close() })
	kiosk = newClient(t, m.URL())
	if code, ecode := signInAs(kiosk, "1234"); ecode != edge.ELOCKED {
		t.Fatalf("right PIN after a restart: %d %s, want LOCKED", code, ecode)
	}

	// The lock ends; the wrong PINs still count, so one more locks for
	// twice as long.
	clock.later(31 * time.Second)
	if code, _ := signInAs(kiosk, "1234"); code != http.StatusCreated {
		t.Fatalf("right PIN after the lock: %d, want 201", code)
	}
	anon := newClient(t, m.URL())
	var e apiError
	if code := anon.do("POST", "/api/session", map[string]string{"pin": "0005"}, &e); e.Error.Code != edge.ELOCKED || !strings.Contains(e.Error.Message, "60 s") {
		t.Fatalf("wrong PIN after the lock: %d %+v, want LOCKED for 60 s", code, e.Error)
	}
	clock.later(59 * time.Second)
	if _, ecode := signInAs(anon, "1234"); ecode != edge.ELOCKED {
		t.Fatalf("59 s into a 60 s lock: %s, want LOCKED", ecode)
	}

	// A clerk may not unlock; a manager signed in before the lock may, and
	// may see the lock first.
	if code := kiosk.do("POST", "/api/session/unlock", nil, nil); code != http.StatusForbidden {
		t.Errorf("clerk unlock: %d, want 403", code)
	}
	clock.later(2 * time.Second)
	manager = newClient(t, m.URL())
	if code, _ := signInAs(manager, demoManagerPIN); code != http.StatusCreated {
		t.Fatalf("manager sign in after the lock: %d", code)
	}
	if _, ecode := signInAs(anon, "0006"); ecode != edge.ELOCKED {
		t.Fatalf("wrong PIN: %s, want LOCKED again", ecode)
	}
	var lock struct {
		Lock struct {
			Locked   bool `json:"locked"`
			Failures int  `json:"failures"`
		} `json:"lock"`
	}
	if code := manager.do("GET", "/api/session/lock", nil, &lock); code != http.StatusOK || !lock.Lock.Locked || lock.Lock.Failures != 7 {
		t.Fatalf("lock status: %d %+v, want locked with 7 failures", code, lock)
	}
	if code := manager.do("POST", "/api/session/unlock", nil, &lock); code != http.StatusOK || lock.Lock.Locked || lock.Lock.Failures != 0 {
		t.Fatalf("manager unlock: %d %+v", code, lock)
	}
	if code, _ := signInAs(anon, "1234"); code != http.StatusCreated {
		t.Fatalf("right PIN after the unlock: %d, want 201", code)
	}
}

func TestSignInParallelGuessesEvaluateAtMostFive(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-parallel", token.NewTrustList())
	m := runTerminal(t, dir, newSignInClock())
	t.Cleanup(func() { m.Close() })

	const n = 30
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var e apiError
			c := newClient(t, m.URL())
			c.do("POST", "/api/session", map[string]string{"pin": strconv.Itoa(100000 + i)}, &e)
			codes[i] = e.Error.Code
		}()
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[edge.EUNAUTHORIZED] != 4 || count[edge.ELOCKED] != n-4 {
		t.Errorf("answers %v, want 4 UNAUTHORIZED and %d LOCKED", count, n-4)
	}
	// Evaluated guesses are failures; the others were refused unseen.
	if got := metricValue(t, m.URL(), "comptoir_edge_signin_failures_total"); got != 5 {
		t.Errorf("guesses evaluated %v, want 5", got)
	}
}

func TestStaffAddDoesNotTellTakenPINs(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-staffpin", token.NewTrustList())
	m := runTerminal(t, dir, newSignInClock())
	t.Cleanup(func() { m.Close() })
	manager := newClient(t, m.URL())
	if code, _ := signInAs(manager, demoManagerPIN); code != http.StatusCreated {
		t.Fatalf("manager sign in: %d", code)
	}
	add := func(name, role, pin string) (int, apiError) {
		var e apiError
		code := manager.do("POST", "/api/staff", map[string]string{"name": name, "role": role, "pin": pin}, &e)
		return code, e
	}
	// The clerk's PIN (taken) and an unusable one answer alike.
	taken, takenErr := add("Eve", edge.RoleClerk, "1234")
	short, shortErr := add("Eve", edge.RoleManager, "4321")
	if taken != http.StatusBadRequest || takenErr.Error.Code != edge.EINVALID {
		t.Errorf("taken PIN: %d %+v, want 400 INVALID", taken, takenErr.Error)
	}
	if short != taken || shortErr.Error.Code != takenErr.Error.Code || strings.Contains(takenErr.Error.Message, "taken") {
		t.Errorf("taken PIN told apart: %d %+v; a four-digit manager PIN: %d %+v", taken, takenErr.Error, short, shortErr.Error)
	}
	if code, _ := add("Eve", edge.RoleManager, "135790"); code != http.StatusCreated {
		t.Errorf("manager with a six-digit PIN: %d, want 201", code)
	}
	// Each taken PIN offered is a guess of the sign-in's: four more lock.
	var last apiError
	for _, pin := range []string{"1234", demoManagerPIN, "135790", "1234"} {
		_, last = add("Mallory", edge.RoleClerk, pin)
	}
	if last.Error.Code != edge.ELOCKED {
		t.Fatalf("fifth taken PIN: %+v, want LOCKED", last.Error)
	}
	if _, ecode := signInAs(newClient(t, m.URL()), "1234"); ecode != edge.ELOCKED {
		t.Errorf("sign-in after taken PINs at staff add: %s, want LOCKED", ecode)
	}
}
