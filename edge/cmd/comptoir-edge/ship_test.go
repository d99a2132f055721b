package main

// Tests of what ships: the /metrics of both binaries pass `promtool check
// metrics` and hold every series the alert rules and the dashboard use; the
// linux/arm64 agent runs under qemu-aarch64-static against an amd64 cloud.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	comptoircloud "github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// scrape returns the body of GET url.
func scrape(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// waitMetric scrapes url until every name shows, and returns the last body.
func waitMetric(tb testing.TB, url string, names ...string) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, missing := scrape(tb, url), ""
		for _, n := range names {
			if !strings.Contains(body, "\n"+n) {
				missing = n
				break
			}
		}
		if missing == "" {
			return body
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never showed %s", url, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// usedMetrics returns the comptoir_* series named in the alert rules and
// the Grafana dashboard.
func usedMetrics(tb testing.TB) map[string]bool {
	tb.Helper()
	root := testenv.RepoRoot()
	files := []string{filepath.Join(root, "build", "prometheus", "alerts.yml")}
	dash, _ := filepath.Glob(filepath.Join(root, "build", "grafana", "*.json"))
	files = append(files, dash...)
	re := regexp.MustCompile(`comptoir_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, n := range re.FindAllString(string(b), -1) {
			if !strings.HasSuffix(n, "_") { // "comptoir_edge_*" in comments
				used[n] = true
			}
		}
	}
	return used
}

// TestMetricsLintAndUsed scrapes a real cloud and a real enrolled terminal
// after a deposit and a refusal, runs `promtool check metrics` on both, and
// checks that every series of the alerts and the dashboard exists.
func TestMetricsLintAndUsed(t *testing.T) {
	promtool := testenv.Command(t, "promtool", "prometheus")
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	dir := t.TempDir()
	if _, err := Enroll(t.Context(), cloud.HTTPURL(), operator.key, "term-metrics-1", "Relais Metrics", dir); err != nil {
		t.Fatal(err)
	}
	_, kiosk := startTerminal(t, dir)
	ra := createReturn(t, issuer)
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": ra.Token, "weight_g": 1200}, nil); code != http.StatusCreated {
		t.Fatalf("deposit: status %d", code)
	}
	heavy := createReturn(t, issuer)
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": heavy.Token, "weight_g": 90000}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("overweight deposit: status %d, want 422", code)
	}
	waitForStatus(t, issuer, ra.Tracking, "deposited")

	// Two more terminals, so that the series the cloud exports only for
	// terminals to act on show: one last seen an hour ago (offline), one
	// whose status says its label printer is out of paper, a backlog, a
	// disk warning and a wrong clock.
	for _, id := range []string{"term-metrics-2", "term-metrics-3"} {
		if _, err := Enroll(t.Context(), cloud.HTTPURL(), operator.key, id, id, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	st := wire.Marshal(wire.Status{V: wire.Version, Online: true, DiskFreeBytes: 8 << 30, DiskWarning: true, OutboxPending: 150, OutboxOldestAgeS: 7200, ClockWrong: true,
		Printers: map[string]wire.PrinterStatus{"label": {Up: false, State: "paper_out"}, "receipt": {Up: true, State: "ready"}}})
	if err := cloud.Store().UpdateTerminalStatus(t.Context(), "term-metrics-3", comptoircloud.StatusUpdate{Online: true, Status: st, SeenAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Store().UpdateTerminalStatus(t.Context(), "term-metrics-2", comptoircloud.StatusUpdate{Online: false, SeenAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	edgeBody := waitMetric(t, kiosk.base+"/metrics", "comptoir_edge_print_jobs_total", "comptoir_edge_refusals_total", "comptoir_edge_clock_skew_seconds")
	cloudBody := waitMetric(t, cloud.HTTPURL()+"/metrics", `comptoir_fleet_terminals{state="online"} 2`, "comptoir_cloud_ingest_events_total")
	for name, body := range map[string]string{"edge": edgeBody, "cloud": cloudBody} {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics on the %s: %v\n%s", name, err, out)
		}
	}
	all := edgeBody + cloudBody
	for n := range usedMetrics(t) {
		if !strings.Contains(all, "\n"+n+"{") && !strings.Contains(all, "\n"+n+" ") {
			t.Errorf("%s is used by the alerts or the dashboard but neither binary exports it", n)
		}
	}
}

// agent is a comptoir-edge child process.
type agent struct {
	cmd   *exec.Cmd
	url   string
	ready time.Duration // from start to the first 200 of /readyz
}

// startAgent runs argv (the binary, maybe behind qemu) with "run" on a
// free port in dir, and waits for /readyz.
func startAgent(tb testing.TB, argv []string, dir string) *agent {
	tb.Helper()
	args := append(append([]string{}, argv[1:]...), "run", "--data", dir, "--http", "127.0.0.1:0", "--demo")
	cmd := exec.Command(argv[0], args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	a := &agent{cmd: cmd}
	tb.Cleanup(a.stop)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "kiosk on "); ok {
				lines <- u
			}
		}
		close(lines)
	}()
	select {
	case u, ok := <-lines:
		if !ok {
			cmd.Wait()
			tb.Fatalf("agent ended before listening: %s", stderr.String())
		}
		a.url = strings.TrimSpace(u)
	case <-time.After(60 * time.Second):
		tb.Fatalf("agent did not listen within a minute: %s", stderr.String())
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(a.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				a.ready = time.Since(start)
				return a
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("agent not ready within a minute: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rssBytes reads VmRSS of the process from /proc.
func (a *agent) rssBytes(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb * 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

// stop ends the agent with SIGTERM (it closes its journal), or kills it.
func (a *agent) stop() {
	if a.cmd.ProcessState != nil {
		return
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { a.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		a.cmd.Process.Kill()
		<-done
	}
}

// crossBuild builds the agent for linux/goarch into dir, static and
// trimmed as `make cross` does (so the build cache of `make cross` serves).
func crossBuild(tb testing.TB, goarch, dir string, pkgs ...string) {
	tb.Helper()
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	args := append([]string{"build", "-trimpath", "-ldflags", "-s -w -buildid= -X main.Version=shiptest", "-o", dir + "/"}, pkgs...)
	cmd := exec.Command(gobin, args...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build for %s: %v\n%s", goarch, err, out)
	}
}

// TestArm64UnderQemu runs the linux/arm64 agent under qemu-aarch64-static:
// it decodes a return's QR image, enrolls with an amd64 cloud on loopback,
// starts, answers /healthz, takes the deposit and syncs it to the cloud.
func TestArm64UnderQemu(t *testing.T) {
	qemu := testenv.Command(t, "qemu-aarch64-static", "qemu-user-static")
	bindir := t.TempDir()
	crossBuild(t, "arm64", bindir, "./edge/cmd/comptoir-edge")
	argv := []string{qemu, filepath.Join(bindir, "comptoir-edge")}
	arm := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(qemu, append(argv[1:], args...)...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("arm64 comptoir-edge %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return out
	}
	if v := strings.TrimSpace(string(arm("version"))); v != "shiptest" {
		t.Fatalf("arm64 version %q, want the stamped shiptest", v)
	}

	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	ra := createReturn(t, issuer)
	var png []byte
	if code := issuer.do("GET", ra.QRURL, nil, &png); code != http.StatusOK {
		t.Fatalf("QR PNG: status %d", code)
	}
	img := filepath.Join(t.TempDir(), "return.png")
	if err := os.WriteFile(img, png, 0o644); err != nil {
		t.Fatal(err)
	}
	var line scanLine
	if err := json.Unmarshal(arm("scan", "--json", img), &line); err != nil {
		t.Fatal(err)
	}
	if line.Error != nil || len(line.Symbols) != 1 || line.Symbols[0].Text != ra.Token {
		t.Fatalf("arm64 scan: %+v, want the return's token", line)
	}

	dir := t.TempDir()
	arm("enroll", "--cloud", cloud.HTTPURL(), "--operator-key", operator.key, "--terminal", "term-arm64-1", "--name", "Relais ARM", "--data", dir)
	a := startAgent(t, argv, dir)
	t.Logf("arm64 agent under qemu ready in %v", a.ready)
	kiosk := newClient(t, a.url)
	var health map[string]any
	if code := kiosk.do("GET", "/healthz", nil, &health); code != http.StatusOK || health["ok"] != true {
		t.Fatalf("healthz: %d %v", code, health)
	}
	if code := kiosk.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
		t.Fatalf("sign in: status %d", code)
	}
	var dep depositResult
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": line.Symbols[0].Text, "weight_g": 800}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit: status %d", code)
	}
	tl := waitForStatus(t, issuer, ra.Tracking, "deposited")
	if n := count(tl, "deposited"); n != 1 {
		t.Fatalf("timeline has %d deposits, want 1: %+v", n, tl)
	}
	a.stop()
	if !a.cmd.ProcessState.Success() {
		t.Errorf("arm64 agent exit on SIGTERM: %v", a.cmd.ProcessState)
	}
}
