package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/loadgen"
	"github.com/comptoir/comptoir/cloud/pgstore"
)

// childEnv makes the test binary run comptoir-cloud's main with its
// arguments instead of the tests: the instances of TestTwoInstancesSIGKILL
// are real processes running the real command.
const childEnv = "COMPTOIR_CLOUD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// instance is a comptoir-cloud serve child process.
type instance struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	http string
	done chan struct{}
}

func startInstance(t testing.TB, args ...string) *instance {
	t.Helper()
	return startInstanceAt(t, freeAddr(t), args...)
}

// startInstanceAt is startInstance with its HTTP API on addr, so that a
// restarted instance answers where the first one did.
func startInstanceAt(t testing.TB, addr string, args ...string) *instance {
	t.Helper()
	in := &instance{http: addr, done: make(chan struct{})}
	in.cmd = exec.Command(os.Args[0], append([]string{"serve", "--http", in.http}, args...)...)
	in.cmd.Env = append(os.Environ(), childEnv+"=1")
	var mu sync.Mutex
	in.cmd.Stdout = lockedWriter{&mu, &in.out}
	in.cmd.Stderr = lockedWriter{&mu, &in.out}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.cmd.Wait(); close(in.done) }()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			mu.Lock()
			t.Logf("output of the instance on %s:\n%s", in.http, in.out.String())
			mu.Unlock()
		}
	})
	// A cloud restarted under a fleet marks each terminal offline at start
	// (19,000 store writes took over 30 s on the loaded 2-core machine).
	waitWithin(t, "instance healthy", 3*time.Minute, func() bool {
		select {
		case <-in.done:
			t.Fatalf("instance exited: %s", in.out.String())
		default:
		}
		resp, err := http.Get("http://" + in.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return in
}

func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, what, 30*time.Second, cond)
}

func waitWithin(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startMosquitto runs a Mosquitto of the test's own (the system one is
// shared by other tests), anonymous, and returns its tcp:// URL.
func startMosquitto(t testing.TB) string {
	t.Helper()
	url, _ := startMosquittoProc(t)
	return url
}

// startMosquittoProc is startMosquitto that also returns the process.
func startMosquittoProc(t testing.TB) (string, *os.Process) {
	t.Helper()
	bin := testenv.Command(t, "mosquitto", "mosquitto")
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\nmax_inflight_messages 0\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "mosquitto listens", func() bool { return testenv.Reachable(addr) })
	return "tcp://" + addr, cmd.Process
}

// TestTwoInstancesSIGKILL runs two cloud instances on one Mosquitto and one
// PostgreSQL, consuming through the shared subscription; loadgen's
// terminals send their events, one instance is killed with SIGKILL once a
// third is stored, and in the end every event is acked and stored exactly
// once, with every terminal's acked_seq at its last seq.
func TestTwoInstancesSIGKILL(t *testing.T) {
	ctx := context.Background()
	dsn, drop, err := pgstore.NewSchema(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop() })
	broker := startMosquitto(t)
	// The schema is migrated once, before the instances start, so that the
	// test can watch the events table from the start.
	s, err := pgstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	a := startInstance(t, "--data", t.TempDir(), "--broker", broker, "--store", "postgres", "--pg", dsn)
	startInstance(t, "--data", t.TempDir(), "--broker", broker, "--store", "postgres", "--pg", dsn)

	const terminals, events = 40, 500
	var res loadgen.Result
	done := make(chan error, 1)
	go func() {
		var err error
		res, err = loadgen.Run(ctx, loadgen.Config{
			BrokerURL: broker, Terminals: terminals, EventsPerTerminal: events,
			BatchSize: 50, AckTimeout: 2 * time.Second, Prefix: "lg-kill",
		})
		done <- err
	}()
	count := func() int {
		var n int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "a third of the events stored", func() bool { return count() >= terminals*events/3 })
	a.kill()
	atKill := count()

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("loadgen: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("loadgen did not end within 60 s of the kill")
	}
	if res.Acked != terminals*events {
		t.Fatalf("acked %d events, want %d (%+v)", res.Acked, terminals*events, res)
	}
	if atKill >= terminals*events {
		t.Fatalf("every event was stored before the kill (%d): the test proves nothing", atKill)
	}
	rows, err := s.Pool().Query(ctx, `
		SELECT e.terminal, count(*), count(DISTINCT e.seq), count(DISTINCT e.id), min(e.seq), max(e.seq), max(w.acked_seq)
		FROM events e JOIN watermarks w ON w.terminal = e.terminal
		GROUP BY e.terminal ORDER BY e.terminal`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var tid string
		var n, seqs, ids, lo, hi, acked int64
		if err := rows.Scan(&tid, &n, &seqs, &ids, &lo, &hi, &acked); err != nil {
			t.Fatal(err)
		}
		seen++
		if n != events || seqs != events || ids != events || lo != 1 || hi != events || acked != events {
			t.Errorf("%s: %d rows, %d seqs, %d ids, seqs %d..%d, acked_seq %d; want %d of each, acked %d",
				tid, n, seqs, ids, lo, hi, acked, events, events)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != terminals {
		t.Fatalf("%d terminals have events, want %d", seen, terminals)
	}
	t.Logf("%d events stored before the kill; loadgen: %+v", atKill, res)
}
