package loadgen_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/loadgen"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

// TestFleetTLS connects a fleet over TLS to a cloud's embedded broker, each
// terminal with its own enrolment, a persistent session and its status,
// and sending a batch after each connection. Then the cloud restarts on the
// same data and addresses: every terminal comes back on its own, sends a
// second batch, and every event of both connections is acked.
func TestFleetTLS(t *testing.T) {
	dir := t.TempDir()
	pool, cert, key := testenv.SelfSignedTLS(t, dir)
	args := []string{"serve", "--data", filepath.Join(dir, "cloud"), "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo", "--mqtt-tls-cert", cert, "--mqtt-tls-key", key}
	m := runCloud(t, args)
	_, operator, _ := m.Demo()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, err := loadgen.NewFleet(ctx, loadgen.FleetConfig{
		Cloud: m.HTTPURL(), OperatorKey: operator, Terminals: fleetSize, Prefix: "fl-test",
		TLS: &tls.Config{RootCAs: pool}, ConnectRate: 5000, EventsPerConnect: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx)
	defer f.Close()
	if err := f.WaitConnected(ctx, fleetSize); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitSent(ctx, 10*fleetSize); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitAcked(ctx); err != nil {
		t.Fatal(err)
	}
	waitOnline(t, m, fleetSize)

	// The restart drops every connection at once.
	httpURL, mqttURL := m.HTTPURL(), m.MQTTURL()
	m.Close()
	if err := f.WaitDisconnected(ctx); err != nil {
		t.Fatal(err)
	}
	args[4], args[6] = httpURL[len("http://"):], mqttURL[len("mqtts://"):]
	m = runCloud(t, args)
	if err := f.WaitConnected(ctx, fleetSize); err != nil {
		t.Fatal(err)
	}
	// Connected comes before a terminal's batch is sent.
	if err := f.WaitSent(ctx, 2*10*fleetSize); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitAcked(ctx); err != nil {
		t.Fatal(err)
	}
	st := f.Stats()
	t.Logf("%+v", st)
	if st.Sent != 2*10*fleetSize || st.Acked != st.Sent || st.Connects < 2*fleetSize {
		t.Fatalf("stats = %+v, want %d events sent and acked over at least %d connections", st, 2*10*fleetSize, 2*fleetSize)
	}
	ts, err := m.Store().Terminals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range ts {
		if term.AckedSeq != 20 {
			t.Errorf("%s: acked_seq %d, want 20", term.ID, term.AckedSeq)
		}
	}
	waitOnline(t, m, fleetSize)
}

// TestNewFleetRefuses: a configuration the fleet cannot run is an EINVALID
// error that says what to change.
func TestNewFleetRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  loadgen.FleetConfig
	}{
		{"no terminals", loadgen.FleetConfig{BrokerURL: "tcp://127.0.0.1:1"}},
		{"no broker", loadgen.FleetConfig{Terminals: 1}},
		{"over the file limit", loadgen.FleetConfig{BrokerURL: "tcp://127.0.0.1:1", Terminals: 1 << 30}},
		{"bad source address", loadgen.FleetConfig{BrokerURL: "tcp://127.0.0.1:1", Terminals: 1, SourceAddrs: []string{"localhost"}}},
		{"batch too large", loadgen.FleetConfig{BrokerURL: "tcp://127.0.0.1:1", Terminals: 1, EventsPerConnect: 1000}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadgen.NewFleet(context.Background(), tt.cfg)
			if edge.ErrorCode(err) != edge.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
		})
	}
}

// waitOnline waits until the cloud's registry has n terminals online, from
// their status messages.
func waitOnline(t *testing.T, m *server.Main, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ts, err := m.Store().Terminals(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		online := 0
		for _, term := range ts {
			if term.Online {
				online++
			}
		}
		if online == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d terminals online, want %d", online, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runCloud(t *testing.T, args []string) *server.Main {
	t.Helper()
	m := server.NewMain()
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
