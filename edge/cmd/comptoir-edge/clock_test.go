package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/scanner/token"
)

// TestClockSetBackUnderTheAgent moves the system clock of a running agent
// two days back, restarts it so, and sets it right: deposits are never
// dated before the last one, and the status and the metrics say when the
// clock is behind.
func TestClockSetBackUnderTheAgent(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-clock", token.NewTrustList())
	var skew atomic.Int64
	start := func() (*Main, *client) {
		m := NewMain()
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		m.Config.DataDir, m.Config.HTTPAddr, m.Config.Demo = dir, "127.0.0.1:0", true
		m.wall = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := newClient(t, m.URL())
		if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
			t.Fatalf("sign in: %d", code)
		}
		return m, c
	}
	deposit := func(c *client, n int) time.Time {
		t.Helper()
		var dep struct {
			Deposit struct {
				OccurredAt time.Time `json:"occurred_at"`
			} `json:"deposit"`
		}
		if code := c.do("POST", "/api/deposits", map[string]any{"code": s10(n), "weight_g": 500}, &dep); code != http.StatusCreated {
			t.Fatalf("deposit %d: %d", n, code)
		}
		return dep.Deposit.OccurredAt
	}
	type status struct {
		ClockBehind  bool    `json:"clock_behind"`
		ClockBehindS float64 `json:"clock_behind_s"`
	}
	wantBehind := func(m *Main, c *client, behind bool) {
		t.Helper()
		var st status
		if code := c.do("GET", "/api/status", nil, &st); code != http.StatusOK {
			t.Fatalf("status: %d", code)
		}
		metric := metricValue(t, m.URL(), "comptoir_edge_clock_behind_seconds")
		if behind && (!st.ClockBehind || st.ClockBehindS < 47*3600 || metric < 47*3600) {
			t.Errorf("clock two days back: status %+v, metric %v; want behind by about 48 h", st, metric)
		}
		if !behind && (st.ClockBehind || metric != 0) {
			t.Errorf("clock right: status %+v, metric %v; want not behind", st, metric)
		}
	}

	m, c := start()
	first := deposit(c, 501)
	wantBehind(m, c, false)

	skew.Store(int64(-48 * time.Hour))
	second := deposit(c, 502)
	if second.Before(first) {
		t.Errorf("deposit with the clock set back dated %v, before the previous one (%v)", second, first)
	}
	wantBehind(m, c, true)

	// A restart with the clock still behind: the journal gives the floor.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, c = start()
	t.Cleanup(func() { m.Close() })
	third := deposit(c, 503)
	if third.Before(second) {
		t.Errorf("deposit after a restart with the clock set back dated %v, before %v", third, second)
	}
	wantBehind(m, c, true)

	skew.Store(0)
	if fourth := deposit(c, 504); fourth.Before(third) {
		t.Errorf("deposit with the clock set right dated %v, before %v", fourth, third)
	}
	wantBehind(m, c, false)
}
