package broker

import (
	"log/slog"
	"sync"
	"time"
)

// Two connections with one terminal's identity (a terminal's data
// directory copied to a second machine, or a replaced terminal still
// plugged in) take the session from each other for ever: each connection
// of the one disconnects the other, whose client reconnects at once. The
// broker saw 112 takeovers a minute and said nothing. A terminal that
// merely reconnects takes over its own session only when the broker has
// not yet seen the old connection die (a stalled link): the terminal
// notices a dead link by its 30 s keepalive, so that happens at most
// once in 40 s or so, never three times a minute. So after flapLimit takeovers of a live session within
// flapWindow the identity is in conflict: the connection that holds the
// session keeps it, connections that would take it over are refused for
// flapCooldown (a connection when the session has none is admitted, so
// that the survivor of the two is not locked out), and the conflict is
// logged once and counted.
const (
	flapLimit    = 3
	flapWindow   = time.Minute
	flapCooldown = 10 * time.Minute
)

// identityGuard tells, per terminal, whether a new connection may take
// over a session that a live connection holds.
type identityGuard struct {
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time

	mu        sync.Mutex
	takeovers map[string][]time.Time // recent takeovers of a live session
	until     map[string]time.Time   // identities in conflict, until when
}

func newIdentityGuard(log *slog.Logger, m *Metrics) *identityGuard {
	return &identityGuard{log: log, metrics: m, now: time.Now,
		takeovers: make(map[string][]time.Time), until: make(map[string]time.Time)}
}

// takeOver reports whether a new connection of terminal tid, from
// remote, may take over the session that a live connection from
// holder holds.
func (g *identityGuard) takeOver(tid, remote, holder string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if until, ok := g.until[tid]; ok {
		if now.Before(until) {
			g.refused()
			return false
		}
		delete(g.until, tid)
	}
	recent := g.takeovers[tid][:0]
	for _, at := range g.takeovers[tid] {
		if now.Sub(at) < flapWindow {
			recent = append(recent, at)
		}
	}
	recent = append(recent, now)
	if len(recent) < flapLimit {
		g.takeovers[tid] = recent
		return true
	}
	delete(g.takeovers, tid)
	g.until[tid] = now.Add(flapCooldown)
	g.log.Warn("two connections use one terminal's identity and take its session from each other; the one connected keeps it, the other is refused",
		"terminal", tid, "holder", holder, "refused", remote, "takeovers", len(recent), "within", flapWindow, "refused_for", flapCooldown,
		"hint", "a terminal's data directory copied to another machine, or a replaced terminal still running: stop one, or enrol it under its own id")
	g.refused()
	return false
}

func (g *identityGuard) refused() {
	if g.metrics != nil {
		g.metrics.IdentityConflicts.Inc()
	}
}
