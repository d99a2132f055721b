package main

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/scanner/token"
)

// startSkewed runs a Main in dir whose system clock is off by skew (read
// at every call), signed in as the demo clerk; the caller closes it.
func startSkewed(t *testing.T, dir string, skew *atomic.Int64) (*Main, *client) {
	t.Helper()
	return startSkewedLog(t, dir, skew, io.Discard)
}

// startSkewedLog is startSkewed with the agent's log written to logs.
func startSkewedLog(t *testing.T, dir string, skew *atomic.Int64, logs io.Writer) (*Main, *client) {
	t.Helper()
	m := NewMain()
	m.Logger = slog.New(slog.NewTextHandler(logs, nil))
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

// TestClockSetBackUnderTheAgent moves the system clock of a running agent
// two days back, restarts it so, and sets it right: deposits are never
// dated before the last one, and the status and the metrics say when the
// clock is behind.
func TestClockSetBackUnderTheAgent(t *testing.T) {
	shortUpkeep(t)
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-clock", token.NewTrustList())
	var skew atomic.Int64
	logs := &testenv.Buffer{}
	start := func() (*Main, *client) { return startSkewedLog(t, dir, &skew, logs) }
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
	// The upkeep's checks (every 50 ms here) log it.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "system clock behind") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "system clock behind") {
		t.Errorf("the clock set back under the running agent is not logged:\n%s", logs.String())
	}

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

// clockStatus is the clock's part of GET /api/status.
type clockStatus struct {
	ClockSynced bool     `json:"clock_synced"`
	ClockWrong  bool     `json:"clock_wrong"`
	ClockSkewS  *float64 `json:"clock_skew_s"`
}

// waitClockStatus polls the kiosk's status until ok accepts its clock.
func waitClockStatus(t *testing.T, c *client, what string, ok func(clockStatus) bool) clockStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st clockStatus
		if code := c.do("GET", "/api/status", nil, &st); code != http.StatusOK {
			t.Fatalf("status: %d", code)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status never said so: %+v", what, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncedReceipt is what a deposit answers of its receipt's time.
type syncedReceipt struct {
	TimeSynced bool   `json:"time_synced"`
	Token      string `json:"token"`
}

// depositSynced deposits parcel n and returns its time and receipt,
// checking that the receipt's claims say what time_synced says.
func depositSynced(t *testing.T, c *client, n int) (time.Time, syncedReceipt) {
	t.Helper()
	var dep struct {
		Deposit struct {
			OccurredAt time.Time `json:"occurred_at"`
		} `json:"deposit"`
		Receipt syncedReceipt `json:"receipt"`
	}
	if code := c.do("POST", "/api/deposits", map[string]any{"code": s10(n), "weight_g": 500}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit %d: %d", n, code)
	}
	claims, _ := base64.RawURLEncoding.DecodeString(strings.Split(dep.Receipt.Token, ".")[1])
	if got := strings.Contains(string(claims), `"sync":true`); got != dep.Receipt.TimeSynced {
		t.Errorf("deposit %d: time_synced %v, claims %s", n, dep.Receipt.TimeSynced, claims)
	}
	return dep.Deposit.OccurredAt, dep.Receipt
}

// skewedOnCloud starts a whole cloud and terminal tid enrolled with it,
// whose system clock is off by skew (startSkewed); both close at cleanup.
func skewedOnCloud(t *testing.T, tid string, skew *atomic.Int64) (*Main, *client) {
	t.Helper()
	cloud, _, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(func() { cloud.Close() })
	dir := t.TempDir()
	if _, err := Enroll(context.Background(), cloud.HTTPURL(), operator.key, tid, "Relais", dir); err != nil {
		t.Fatal(err)
	}
	m, c := startSkewed(t, dir, skew)
	t.Cleanup(func() { m.Close() })
	return m, c
}

// TestClockFromTheCloudAfterAPowerCut starts a new terminal (no operation
// yet, so no floor) whose clock restarted in 2001: its first status is
// dated by that clock and refused by the cloud, which still answers with
// its time; the counter then runs from it and its deposits and receipts
// carry the right, synced time.
func TestClockFromTheCloudAfterAPowerCut(t *testing.T) {
	var skew atomic.Int64
	skew.Store(int64(time.Until(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))))
	_, c := skewedOnCloud(t, "term-2001", &skew)
	st := waitClockStatus(t, c, "clock in 2001", func(s clockStatus) bool { return s.ClockSynced })
	if !st.ClockWrong || st.ClockSkewS == nil || *st.ClockSkewS > -20*365*24*3600 {
		t.Errorf("clock in 2001, synced from the cloud: %+v, want wrong by about 26 years", st)
	}
	at, r := depositSynced(t, c, 611)
	if d := time.Since(at); d < -time.Minute || d > time.Minute || !r.TimeSynced {
		t.Errorf("deposit dated %v (%v from now), synced %v; want now and synced", at, d, r.TimeSynced)
	}
}

// TestClockSyncedWithTheCloud runs a terminal against a whole cloud and
// moves its system clock: on time, its receipts say their time was synced;
// two days behind, it runs from the cloud's time (synced, but the clock
// shown wrong); an hour ahead, the skew is measured, the clock is wrong and
// receipts say their time was not synced.
func TestClockSyncedWithTheCloud(t *testing.T) {
	var skew atomic.Int64
	m, c := skewedOnCloud(t, "term-sync", &skew)

	waitClock := func(what string, ok func(clockStatus) bool) clockStatus {
		t.Helper()
		return waitClockStatus(t, c, what, ok)
	}
	deposit := func(n int) (time.Time, syncedReceipt) { t.Helper(); return depositSynced(t, c, n) }

	// On time: the status sent at connect said the clock was not synced,
	// and the cloud answered with its time.
	waitClock("clock on time", func(s clockStatus) bool { return s.ClockSynced && !s.ClockWrong && s.ClockSkewS != nil })
	if _, r := deposit(601); !r.TimeSynced {
		t.Error("receipt of a terminal on the cloud's time does not say it was synced")
	}
	if v := metricValue(t, m.URL(), "comptoir_edge_clock_synced"); v != 1 {
		t.Errorf("comptoir_edge_clock_synced %v on time, want 1", v)
	}

	// Two days behind: the counter keeps the cloud's time (read at the
	// last ack, carried by the monotonic clock) and says the clock is wrong.
	skew.Store(int64(-48 * time.Hour))
	at, r := deposit(602)
	if d := time.Since(at); d < -time.Minute || d > time.Minute || !r.TimeSynced {
		t.Errorf("deposit with the clock two days behind dated %v (%v from now), synced %v; want now and synced", at, d, r.TimeSynced)
	}
	st := waitClock("clock two days behind", func(s clockStatus) bool { return s.ClockWrong && s.ClockSkewS != nil && *s.ClockSkewS < -47*3600 })
	if !st.ClockSynced {
		t.Errorf("clock behind, running from the cloud's time: %+v, want synced", st)
	}
	if v := metricValue(t, m.URL(), "comptoir_edge_clock_skew_seconds"); v > -47*3600 {
		t.Errorf("comptoir_edge_clock_skew_seconds %v two days behind, want about -172800", v)
	}

	// An hour ahead: only the cloud can tell; the counter's time is the
	// system's (operations stay in order), so receipts are not synced.
	skew.Store(int64(time.Hour))
	waitClock("clock an hour ahead", func(s clockStatus) bool {
		return s.ClockWrong && !s.ClockSynced && s.ClockSkewS != nil && *s.ClockSkewS > 3500
	})
	if _, r := deposit(603); r.TimeSynced {
		t.Error("receipt of a clock an hour ahead says its time was synced")
	}
	if v := metricValue(t, m.URL(), "comptoir_edge_clock_synced"); v != 0 {
		t.Errorf("comptoir_edge_clock_synced %v an hour ahead, want 0", v)
	}
	if v := metricValue(t, m.URL(), "comptoir_edge_clock_skew_seconds"); v < 3500 {
		t.Errorf("comptoir_edge_clock_skew_seconds %v an hour ahead, want about 3600", v)
	}
}
