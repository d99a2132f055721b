// Package runtest runs build/run.sh (`make run`) as a newcomer does: the
// cloud and the terminal start, the cloud alone stops and starts again,
// Ctrl-C stops everything quietly, a terminal that dies at start is
// reported, and a cloud moved to other addresses gets its terminal back.
package runtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
)

// binDir builds comptoir-edge and comptoir-cloud once, where run.sh
// expects them ($BIN).
var binDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "runtest-bin")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "./edge/cmd/comptoir-edge", "./cloud/cmd/comptoir-cloud")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	return dir, nil
})

// script is one run of build/run.sh in its own process group (as a
// terminal's foreground job), with its output gathered.
type script struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	out   strings.Builder
	lines chan string
	done  chan struct{}
}

// env returns the environment of run.sh: binaries, data and addresses.
func env(t *testing.T, runDir string, addrs map[string]string) []string {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatalf("build the binaries: %v", err)
	}
	e := append(os.Environ(), "BIN="+bin, "RUN_DIR="+runDir)
	for k, v := range addrs {
		e = append(e, k+"="+v)
	}
	return e
}

func startScript(t *testing.T, environ []string, args ...string) *script {
	t.Helper()
	return startIn(t, testenv.RepoRoot(), environ, filepath.Join(testenv.RepoRoot(), "build", "run.sh"), args...)
}

// startIn starts a command in dir, in its own process group, its output
// gathered as a script's.
func startIn(t *testing.T, dir string, environ []string, name string, args ...string) *script {
	t.Helper()
	s := &script{t: t, lines: make(chan string, 100), done: make(chan struct{})}
	s.cmd = exec.Command(name, args...)
	s.cmd.Dir = dir
	s.cmd.Env = environ
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(s.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			select {
			case s.lines <- sc.Text():
			default:
			}
		}
	}()
	// done closes once the script has exited and all its output is read
	// (the processes it leaves running write to their logs, not here).
	go func() { s.cmd.Wait(); <-read; close(s.done) }()
	t.Cleanup(func() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
	return s
}

func (s *script) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// lineWait is how long waitLine waits. The lines waited for follow run.sh's
// build of both binaries in a fresh clone, which shares the machine with
// the other packages' tests: at load 17 in CI, with the race detector's
// tests beside it, the build alone took over the 2 minutes this was.
// Only a hang should reach it.
const lineWait = 6 * time.Minute

// waitLine waits for a line containing want, or for the script's end.
func (s *script) waitLine(want string) {
	s.t.Helper()
	timeout := time.After(lineWait)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("run.sh ended before %q:\n%s", want, s.output())
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			s.t.Fatalf("no %q from run.sh within %v:\n%s", want, lineWait, s.output())
		}
	}
}

// wait waits for the script's end and returns its exit status.
func (s *script) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		s.t.Fatalf("run.sh did not end:\n%s", s.output())
	}
	return s.cmd.ProcessState.ExitCode()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url, key string, out any) int {
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// eventually polls f until it holds, failing after a minute (a guard
// against hangs, not a timing assertion).
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// online reports whether the cloud at addr sees the demo terminal online.
func online(t *testing.T, runDir, addr string) bool {
	var demo struct {
		OperatorKey string `json:"operator_key"`
	}
	b, _ := os.ReadFile(filepath.Join(runDir, "cloud", "demo.json"))
	json.Unmarshal(b, &demo)
	var term struct {
		Online bool `json:"online"`
	}
	return get("http://"+addr+"/v1/terminals/demo-relay-1", demo.OperatorKey, &term) == 200 && term.Online
}

func TestMakeRun(t *testing.T) {
	testenv.Command(t, "bash", "bash")
	testenv.Command(t, "timeout", "coreutils")
	runDir := t.TempDir()
	addrs := map[string]string{"CLOUD_HTTP": freeAddr(t), "CLOUD_MQTT": freeAddr(t), "EDGE_HTTP": freeAddr(t)}
	environ := env(t, runDir, addrs)
	run := startScript(t, environ)
	run.waitLine("Comptoir is running")
	eventually(t, "terminal online", func() bool { return online(t, runDir, addrs["CLOUD_HTTP"]) })

	// README step 4: the cloud alone stops and starts; the terminal stays.
	if st := startScript(t, env(t, runDir, nil), "cloud-stop"); st.wait() != 0 || !strings.Contains(st.output(), "cloud stopped") {
		t.Fatalf("cloud-stop: %s", st.output())
	}
	if code := get("http://"+addrs["CLOUD_HTTP"]+"/healthz", "", nil); code != 0 {
		t.Errorf("cloud answers %d after cloud-stop", code)
	}
	if code := get("http://"+addrs["EDGE_HTTP"]+"/healthz", "", nil); code != 200 {
		t.Errorf("terminal answers %d after cloud-stop, want 200", code)
	}
	if st := startScript(t, env(t, runDir, nil), "cloud-start"); st.wait() != 0 {
		t.Fatalf("cloud-start: %s", st.output())
	}
	eventually(t, "terminal online after cloud-start", func() bool { return online(t, runDir, addrs["CLOUD_HTTP"]) })

	// Ctrl-C: the whole process group gets SIGINT; a normal stop.
	syscall.Kill(-run.cmd.Process.Pid, syscall.SIGINT)
	if code := run.wait(); code != 0 {
		t.Errorf("run.sh after Ctrl-C: status %d, want 0:\n%s", code, run.output())
	}
	if out := run.output(); strings.Contains(out, "see ") || !strings.Contains(out, "make run: stopped") {
		t.Errorf("run.sh after Ctrl-C:\n%s", out)
	}
	if code := get("http://"+addrs["CLOUD_HTTP"]+"/healthz", "", nil); code != 0 {
		t.Errorf("the cloud of cloud-start still answers (%d) after Ctrl-C", code)
	}

	// The cloud on another MQTT address: the terminal follows it.
	addrs["CLOUD_MQTT"] = freeAddr(t)
	run = startScript(t, env(t, runDir, addrs))
	run.waitLine("Comptoir is running")
	if !strings.Contains(run.output(), "the cloud moved") {
		t.Errorf("no word of the new address:\n%s", run.output())
	}
	eventually(t, "terminal online on the new MQTT address", func() bool { return online(t, runDir, addrs["CLOUD_HTTP"]) })
	syscall.Kill(-run.cmd.Process.Pid, syscall.SIGINT)
	run.wait()

	// A terminal that cannot start is reported with its error.
	addrs["EDGE_HTTP"] = "127.0.0.1:99999"
	run = startScript(t, env(t, runDir, addrs))
	if code := run.wait(); code != 1 {
		t.Errorf("run.sh with a terminal that cannot start: status %d, want 1", code)
	}
	if out := run.output(); !strings.Contains(out, "the terminal stopped at start") || !strings.Contains(out, "invalid port") {
		t.Errorf("terminal's failure not reported:\n%s", out)
	}
}
