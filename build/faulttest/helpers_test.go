package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
)

// bins holds the paths of the binaries TestMain builds.
var bins struct{ edge, cloud string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faulttest-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "./edge/cmd/comptoir-edge", "./cloud/cmd/comptoir-cloud")
	cmd.Dir = "../.."
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faulttest: build the binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bins.edge, bins.cloud = filepath.Join(dir, "comptoir-edge"), filepath.Join(dir, "comptoir-cloud")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a child process whose output is kept for the failure message.
type proc struct {
	tb   testing.TB
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
}

type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// lines receives stdout lines for who waits on them.
	lines chan string
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func start(tb testing.TB, name, bin string, args ...string) *proc {
	tb.Helper()
	p := &proc{tb: tb, name: name, out: &syncBuf{lines: make(chan string, 64)}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = p.out
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(p.out, sc.Text())
			select {
			case p.out.lines <- sc.Text():
			default:
			}
		}
		p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.kill()
		if tb.Failed() {
			tb.Logf("output of %s:\n%s", name, lastLines(p.out.String(), 40))
		}
	})
	return p
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits; a process that does not stop within 15 s
// fails the test (and is killed).
func (p *proc) stop() {
	p.tb.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
		p.tb.Fatalf("%s did not stop within 15 s of SIGTERM", p.name)
	}
}

// waitLine returns the first submatch of re in a stdout line.
func (p *proc) waitLine(re *regexp.Regexp) string {
	p.tb.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-p.out.lines:
			if m := re.FindStringSubmatch(l); m != nil {
				return m[1]
			}
		case <-p.done:
			p.tb.Fatalf("%s exited: %s", p.name, lastLines(p.out.String(), 20))
		case <-timeout:
			p.tb.Fatalf("%s: no line matching %s within 30 s", p.name, re)
		}
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// eventually polls f every 20 ms until it is true or 60 s have passed.
func eventually(tb testing.TB, what string, f func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 60 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client speaks JSON to the kiosk or the cloud API.
type client struct {
	tb   testing.TB
	base string
	key  string
	http *http.Client
}

func newClient(tb testing.TB, base, key string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: base, key: key, http: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// do sends body as JSON and decodes the answer into out; it returns the
// status, or 0 when the server could not be reached.
func (c *client) do(method, path string, body, out any) int {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.tb.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// broker is what the terminal and the cloud talk through: the cloud's
// embedded broker or a Mosquitto of the test's own.
type brokerKind string

const (
	embedded  brokerKind = "embedded"
	mosquitto brokerKind = "mosquitto"
)

// rig is one cloud, one terminal and the broker between them, with the
// proxy in front of the broker on the terminal's side.
type rig struct {
	t       testing.TB
	kind    brokerKind
	tid     string
	dir     string
	proxy   *proxy
	mosq    *proc
	mqtt    string // the broker's own address
	cloud   *proc
	http    string // the cloud's HTTP address
	op      *client
	term    *proc
	kiosk   *client
	termDir string

	// want maps each tracking deposited to the id of its operation.
	want map[string]string
}

func newRig(t testing.TB, kind brokerKind) *rig {
	r := &rig{t: t, kind: kind, dir: t.TempDir(), want: map[string]string{}}
	r.tid = fmt.Sprintf("ft-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano()%1e9)
	r.tid = regexp.MustCompile(`[^a-z0-9-]`).ReplaceAllString(r.tid, "-")
	if len(r.tid) > 64 {
		r.tid = r.tid[len(r.tid)-64:]
	}
	r.termDir = filepath.Join(r.dir, "edge")
	r.http = freeAddr(t)
	r.mqtt = freeAddr(t)
	if kind == mosquitto {
		testenv.Command(t, "mosquitto", "mosquitto")
		r.startMosquitto()
	}
	r.proxy = newProxy(t, r.mqtt)
	r.startCloud()
	var demo struct {
		OperatorKey string `json:"operator_key"`
	}
	b, err := os.ReadFile(filepath.Join(r.dir, "cloud", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	r.op = newClient(t, "http://"+r.http, demo.OperatorKey)
	out, err := exec.Command(bins.edge, "enroll", "--cloud", "http://"+r.http, "--operator-key", demo.OperatorKey,
		"--terminal", r.tid, "--data", r.termDir).CombinedOutput()
	if err != nil {
		t.Fatalf("enroll: %v: %s", err, out)
	}
	return r
}

// startMosquitto runs a Mosquitto of the test's own on r.mqtt, anonymous
// (as the system one of a development machine), persisting sessions.
func (r *rig) startMosquitto() {
	_, port, _ := net.SplitHostPort(r.mqtt)
	conf := filepath.Join(r.dir, "mosquitto.conf")
	data := filepath.Join(r.dir, "mosquitto") + "/"
	os.MkdirAll(data, 0o700)
	text := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s\nmax_queued_messages 10000\n", port, data)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		r.t.Fatal(err)
	}
	r.mosq = start(r.t, "mosquitto", "mosquitto", "-c", conf)
	eventually(r.t, "mosquitto listens", func() bool { return testenv.Reachable(r.mqtt) })
}

// startCloud runs comptoir-cloud serve with --demo on the rig's addresses;
// terminals are told to reach the broker through the proxy.
func (r *rig) startCloud() {
	args := []string{"serve", "--data", filepath.Join(r.dir, "cloud"), "--http", r.http, "--demo", "--mqtt-public-url", r.proxy.url()}
	if r.kind == mosquitto {
		args = append(args, "--broker", "tcp://"+r.mqtt)
	} else {
		args = append(args, "--mqtt-listen", r.mqtt)
	}
	r.cloud = start(r.t, "comptoir-cloud", bins.cloud, args...)
	hc := newClient(r.t, "http://"+r.http, "")
	eventually(r.t, "cloud healthy", func() bool { return hc.do("GET", "/healthz", nil, nil) == 200 })
}

var kioskLine = regexp.MustCompile(`kiosk on (http://\S+)`)

// startTerminal runs comptoir-edge run --demo and signs in as the clerk.
func (r *rig) startTerminal() {
	r.term = start(r.t, "comptoir-edge", bins.edge, "run", "--data", r.termDir, "--http", "127.0.0.1:0", "--demo")
	r.kiosk = newClient(r.t, r.term.waitLine(kioskLine), "")
	if code := r.kiosk.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
		r.t.Fatalf("sign in: status %d", code)
	}
}

// seed appends n deposits, each followed by its handover (so that the
// shelf has room left), straight into the terminal's journal before the
// terminal starts, as days offline would leave them.
func (r *rig) seed(n int) {
	r.t.Helper()
	j, err := journal.Open(filepath.Join(r.termDir, "journal"), journal.Config{Terminal: r.tid})
	if err != nil {
		r.t.Fatal(err)
	}
	defer j.Close()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	base := len(r.want)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				tracking := s10(base + i + 1)
				op := edge.NewOperation(edge.OpReturnDeposited, time.Now(), "", tracking, edge.DepositData{
					Carrier: "DEMO", Mode: "prelabelled", WeightG: 1000,
					ReceiptID: edge.NewID(), ShelfSlot: fmt.Sprintf("S%d", base+i),
				})
				op, err := j.Append(context.Background(), op)
				if err == nil {
					_, err = j.Append(context.Background(), edge.NewOperation(edge.OpParcelHandedOver, time.Now(), "", tracking,
						edge.HandedOverData{ManifestID: "seed", Carrier: "DEMO"}))
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				mu.Lock()
				r.want[tracking] = op.ID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		r.t.Fatalf("seed: %v", err)
	default:
	}
}

// deposit takes a prelabelled parcel at the kiosk.
func (r *rig) deposit() {
	r.t.Helper()
	tracking := s10(len(r.want) + 1)
	var res struct {
		Deposit struct {
			ID string `json:"id"`
		} `json:"deposit"`
	}
	if code := r.kiosk.do("POST", "/api/deposits", map[string]any{"code": tracking, "weight_g": 1000}, &res); code != http.StatusCreated {
		r.t.Fatalf("deposit %s: status %d", tracking, code)
	}
	r.want[tracking] = res.Deposit.ID
}

func (r *rig) lastSeq() uint64 {
	var st struct {
		LastSeq uint64 `json:"last_seq"`
	}
	if code := r.kiosk.do("GET", "/api/status", nil, &st); code != 200 {
		r.t.Fatalf("terminal status: %d", code)
	}
	return st.LastSeq
}

func (r *rig) ackedSeq() uint64 {
	var v struct {
		AckedSeq uint64 `json:"acked_seq"`
	}
	r.op.do("GET", "/v1/terminals/"+r.tid, nil, &v)
	return v.AckedSeq
}

// check waits until the cloud has stored every seq of the terminal and the
// terminal's outbox is empty, then checks that every deposit is on its
// parcel's timeline exactly once, under the id the terminal gave it.
func (r *rig) check() {
	r.t.Helper()
	last := r.lastSeq()
	if last < uint64(len(r.want)) { // deposits, and the handovers of seeded ones
		r.t.Fatalf("terminal's last seq %d, want at least %d deposits", last, len(r.want))
	}
	eventually(r.t, fmt.Sprintf("cloud's acked_seq reaches %d", last), func() bool { return r.ackedSeq() == last })
	eventually(r.t, "terminal's outbox empties", func() bool {
		var st struct {
			Pending int `json:"outbox_pending"`
		}
		r.kiosk.do("GET", "/api/status", nil, &st)
		return st.Pending == 0
	})
	type miss struct{ tracking, why string }
	bad := make(chan miss, len(r.want))
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tracking := range work {
				var tl struct {
					Timeline []struct {
						Status  string `json:"status"`
						EventID string `json:"event_id"`
					} `json:"timeline"`
				}
				if code := r.op.do("GET", "/v1/parcels/"+url.PathEscape(tracking)+"/timeline", nil, &tl); code != 200 {
					bad <- miss{tracking, fmt.Sprintf("status %d", code)}
					continue
				}
				var ids []string
				for _, e := range tl.Timeline {
					if e.Status == "deposited" {
						ids = append(ids, e.EventID)
					}
				}
				if len(ids) != 1 || ids[0] != r.want[tracking] {
					bad <- miss{tracking, fmt.Sprintf("deposited events %v, want [%s]", ids, r.want[tracking])}
				}
			}
		}()
	}
	for tracking := range r.want {
		work <- tracking
	}
	close(work)
	wg.Wait()
	close(bad)
	n := 0
	for m := range bad {
		if n < 5 {
			r.t.Errorf("%s: %s", m.tracking, m.why)
		}
		n++
	}
	if n > 0 {
		r.t.Fatalf("%d of %d deposits not on the timeline exactly once", n, len(r.want))
	}
}

// s10 returns a UPU S10 number with a correct check digit for serial n.
func s10(n int) string {
	w := []int{8, 6, 4, 2, 3, 5, 9, 7}
	d := fmt.Sprintf("%08d", n)
	sum := 0
	for i, c := range d {
		sum += int(c-'0') * w[i]
	}
	check := 11 - sum%11
	switch check {
	case 10:
		check = 0
	case 11:
		check = 5
	}
	return "RR" + d + fmt.Sprint(check) + "FR"
}
