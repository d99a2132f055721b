// Package testenv finds the real services and tools that integration tests
// use (Mosquitto, PostgreSQL, Chromium, zbar, Node, qemu). A test that lacks
// one skips with a message naming it, unless COMPTOIR_REQUIRE_INTEGRATION=1,
// as in CI, where a missing dependency fails the test instead.
package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Required reports whether integration tests must run (CI).
func Required() bool { return os.Getenv("COMPTOIR_REQUIRE_INTEGRATION") == "1" }

// Skip skips tb with why, or fails it when integration tests are required.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("integration dependency missing (COMPTOIR_REQUIRE_INTEGRATION=1): %s", why)
	}
	tb.Skipf("skipped: %s", why)
}

// Env returns the value of key, or def when unset.
func Env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Reachable reports whether a TCP connection to addr succeeds within a second.
func Reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Mosquitto returns the address (host:port) of a real MQTT broker, from
// COMPTOIR_TEST_MQTT (default 127.0.0.1:1883), or skips.
func Mosquitto(tb testing.TB) string {
	tb.Helper()
	addr := Env("COMPTOIR_TEST_MQTT", "127.0.0.1:1883")
	if !Reachable(addr) {
		Skip(tb, "no MQTT broker at "+addr+" (set COMPTOIR_TEST_MQTT)")
	}
	return addr
}

// Postgres returns a DSN of a real PostgreSQL, from COMPTOIR_TEST_PG (default
// postgres://postgres@127.0.0.1:5432/test), or skips.
func Postgres(tb testing.TB) string {
	tb.Helper()
	dsn := Env("COMPTOIR_TEST_PG", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if !Reachable(Env("COMPTOIR_TEST_PG_ADDR", "127.0.0.1:5432")) {
		Skip(tb, "no PostgreSQL for "+dsn+" (set COMPTOIR_TEST_PG)")
	}
	return dsn
}

// Command returns the path of an executable on PATH, or skips naming the
// Debian package that provides it.
func Command(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Skip(tb, name+" not found (Debian package "+pkg+")")
	}
	return p
}

// Chromium returns the path of a Chromium binary, from COMPTOIR_CHROMIUM or
// PATH, or skips.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("COMPTOIR_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Skip(tb, "no Chromium (Debian package chromium, or set COMPTOIR_CHROMIUM)")
	return ""
}

// RepoRoot returns the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Corpus returns ../shared/corpus beside the repository (or COMPTOIR_CORPUS),
// or skips when it is absent.
func Corpus(tb testing.TB) string {
	tb.Helper()
	dir := Env("COMPTOIR_CORPUS", filepath.Join(RepoRoot(), "..", "shared", "corpus"))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		Skip(tb, "barcode corpus not found at "+dir+" (set COMPTOIR_CORPUS)")
	}
	return dir
}

// Buffer is a bytes.Buffer that a program's goroutines may write while a
// test reads it: a log, or a command's output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// ProcessCPU returns the CPU time (user + system) that the processes have
// used, read from /proc/PID/stat (in clock ticks of 10 ms); false when one
// is not a process of this machine (or none is given).
func ProcessCPU(pids ...int) (time.Duration, bool) {
	var total time.Duration
	for _, pid := range pids {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, false
		}
		// The command name, field 2, is in parentheses and may hold
		// spaces: count the fields after its closing one.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) < 13 {
			return 0, false
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return total, len(pids) > 0
}
