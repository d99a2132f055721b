package runtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
)

// The README's tour, as written: these must appear in it word for word,
// and are what TestReadmeTour runs (with the addresses it was given).
const (
	tourKiosk      = "open the kiosk at <http://127.0.0.1:8081/> and enter PIN `1234`"
	tourDemoReturn = "bin/comptoir-cloud demo-return --cloud http://127.0.0.1:8080 --data .run/cloud"
	tourSpool      = "spooled under `.run/edge/spool/`"
	tourTrack      = "<http://127.0.0.1:8080/track/TRACKING>"
	tourCloudStop  = "`make cloud-stop`"
	tourCloudStart = "`make cloud-start`"
)

// TestReadmeTour follows the README's five-minute tour on a fresh clone of
// the repository's committed state, as a newcomer does: `make run` (which
// builds), a demo return made with the README's command, scanned at the
// kiosk from its PNG and deposited with the clerk's PIN, the label and
// receipt spooled, the tracking page and the timeline showing the deposit,
// the receipt verified by the cloud; then the cloud stopped alone, a
// deposit taken offline and waiting, the cloud started again, and that
// deposit arriving once. Only the addresses differ from the README's (free
// ports, given to make run as the README says).
func TestReadmeTour(t *testing.T) {
	for _, tool := range [][2]string{{"git", "git"}, {"make", "make"}, {"bash", "bash"}, {"timeout", "coreutils"}} {
		testenv.Command(t, tool[0], tool[1])
	}
	clone := filepath.Join(t.TempDir(), "comptoir")
	if out, err := exec.Command("git", "clone", "--quiet", testenv.RepoRoot(), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, tour, _ := strings.Cut(string(readme), "## A five-minute tour")
	tour, _, _ = strings.Cut(tour, "\n## ")
	for _, want := range []string{tourKiosk, tourDemoReturn, tourSpool, tourTrack, tourCloudStop, tourCloudStart} {
		if !strings.Contains(tour, want) {
			t.Fatalf("the README's tour no longer says %q: update this test with it", want)
		}
	}

	cloudHTTP, edgeHTTP := freeAddr(t), freeAddr(t)
	addrs := strings.NewReplacer("127.0.0.1:8080", cloudHTTP, "127.0.0.1:8081", edgeHTTP)
	environ := append(os.Environ(), "CLOUD_HTTP="+cloudHTTP, "CLOUD_MQTT="+freeAddr(t), "EDGE_HTTP="+edgeHTTP)
	run := startIn(t, clone, environ, "make", "run")
	// The kiosk's line follows "Comptoir is running": wait for it, not
	// for the first (the reader may not have read it yet).
	run.waitLine("Kiosk:")
	kiosk := "http://" + edgeHTTP
	if !strings.Contains(run.output(), kiosk+"/") || !strings.Contains(run.output(), "clerk 1234") {
		t.Errorf("make run does not show the kiosk's address and PIN:\n%s", run.output())
	}

	// 1. The kiosk and the clerk's PIN.
	k := newKiosk(t, kiosk)
	if code := k.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
		t.Fatalf("sign in with PIN 1234: %d", code)
	}

	// 2 and 3: a demo return, scanned from its PNG, deposited; 4: seen.
	first := demoReturn(t, clone, environ, addrs.Replace(tourDemoReturn))
	token := deposit(t, k, first)
	// Printing follows the deposit; the spool printers write a file a job,
	// in a folder a printer.
	for _, printer := range []string{"label", "receipt"} {
		eventually(t, "the "+printer+" spooled", func() bool {
			m, _ := filepath.Glob(filepath.Join(clone, ".run", "edge", "spool", printer, "*"))
			return len(m) == 1
		})
	}
	operator := demoKey(t, clone, "operator_key")
	eventually(t, "the deposit on the cloud's timeline", func() bool { return deposits(t, cloudHTTP, operator, first.tracking) == 1 })
	track := addrs.Replace(strings.Trim(strings.ReplaceAll(tourTrack, "TRACKING", first.tracking), "<>"))
	if code, body := fetch(t, "GET", track, nil); code != http.StatusOK || !strings.Contains(body, first.tracking) {
		t.Errorf("GET %s: %d", track, code)
	}
	var verdict struct {
		Valid  bool   `json:"valid"`
		Reason string `json:"reason"`
	}
	if code, body := fetch(t, "POST", "http://"+cloudHTTP+"/v1/receipts/verify", map[string]string{"token": token}); code != http.StatusOK ||
		json.Unmarshal([]byte(body), &verdict) != nil || !verdict.Valid {
		t.Errorf("the cloud verifies the receipt: %d %s", code, body)
	}

	// 4, offline: the cloud alone stops, a deposit waits, the cloud
	// starts again, the deposit arrives once.
	second := demoReturn(t, clone, environ, addrs.Replace(tourDemoReturn))
	if st := startIn(t, clone, environ, "make", "cloud-stop"); st.wait() != 0 {
		t.Fatalf("make cloud-stop: %s", st.output())
	}
	deposit(t, k, second)
	var status struct {
		OutboxPending int `json:"outbox_pending"`
	}
	if k.do("GET", "/api/status", nil, &status); status.OutboxPending == 0 {
		t.Errorf("the kiosk shows no deposit waiting to be sent while the cloud is stopped")
	}
	if st := startIn(t, clone, environ, "make", "cloud-start"); st.wait() != 0 {
		t.Fatalf("make cloud-start: %s", st.output())
	}
	eventually(t, "the offline deposit on the timeline", func() bool { return deposits(t, cloudHTTP, operator, second.tracking) >= 1 })
	eventually(t, "the outbox drained", func() bool {
		return k.do("GET", "/api/status", nil, &status) == http.StatusOK && status.OutboxPending == 0
	})
	if n := deposits(t, cloudHTTP, operator, second.tracking); n != 1 {
		t.Errorf("the offline deposit is on its timeline %d times, want once", n)
	}

	// Ctrl-C: make itself dies of the SIGINT (and says "Interrupt", as
	// make does), run.sh stops both quietly.
	syscall.Kill(-run.cmd.Process.Pid, syscall.SIGINT)
	run.wait()
	if out := run.output(); strings.Contains(out, "see ") || !strings.Contains(out, "make run: stopped") {
		t.Errorf("make run after Ctrl-C:\n%s", out)
	}
	if code := get("http://"+cloudHTTP+"/healthz", "", nil); code != 0 {
		t.Errorf("the cloud still answers (%d) after Ctrl-C", code)
	}
}

// tourReturn is what demo-return printed.
type tourReturn struct{ tracking, png string }

// demoReturn runs the README's demo-return command line in the clone.
func demoReturn(t *testing.T, dir string, environ []string, line string) tourReturn {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir, cmd.Env = dir, environ
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	var r tourReturn
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "tracking "); ok {
			r.tracking = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "QR PNG "); ok {
			r.png = strings.TrimSpace(v)
		}
	}
	if r.tracking == "" || r.png == "" {
		t.Fatalf("%s printed no tracking number or PNG path:\n%s", line, out)
	}
	if !filepath.IsAbs(r.png) {
		r.png = filepath.Join(dir, r.png)
	}
	return r
}

// deposit scans the return's PNG at the kiosk, as "Ou une photo du code"
// does, deposits it at 1.2 kg and returns the receipt's token.
func deposit(t *testing.T, k *kiosk, r tourReturn) string {
	t.Helper()
	png, err := os.ReadFile(r.png)
	if err != nil {
		t.Fatal(err)
	}
	var scan struct {
		Eligible bool   `json:"eligible"`
		Text     string `json:"text"`
	}
	if code := k.do("POST", "/api/scan/image", png, &scan); code != http.StatusOK || !scan.Eligible || scan.Text == "" {
		t.Fatalf("scan of %s: %d, eligible %v", r.png, code, scan.Eligible)
	}
	var dep struct {
		Deposit struct {
			Tracking string `json:"tracking"`
		} `json:"deposit"`
		Receipt struct {
			Token string `json:"token"`
		} `json:"receipt"`
	}
	if code := k.do("POST", "/api/deposits", map[string]any{"code": scan.Text, "weight_g": 1200}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit of %s: %d", r.tracking, code)
	}
	if dep.Deposit.Tracking != r.tracking || dep.Receipt.Token == "" {
		t.Fatalf("deposit of %s: tracking %q, receipt token %q", r.tracking, dep.Deposit.Tracking, dep.Receipt.Token)
	}
	return dep.Receipt.Token
}

// deposits counts the deposits on a parcel's timeline.
func deposits(t *testing.T, cloudHTTP, key, tracking string) int {
	var tl struct {
		Timeline json.RawMessage `json:"timeline"`
	}
	if get("http://"+cloudHTTP+"/v1/parcels/"+tracking+"/timeline", key, &tl) != http.StatusOK {
		return 0
	}
	return bytes.Count(tl.Timeline, []byte(`"status":"deposited"`))
}

func demoKey(t *testing.T, dir, name string) string {
	t.Helper()
	var keys map[string]any
	b, err := os.ReadFile(filepath.Join(dir, ".run", "cloud", "demo.json"))
	if err != nil || json.Unmarshal(b, &keys) != nil {
		t.Fatalf("demo.json: %v", err)
	}
	k, _ := keys[name].(string)
	return k
}

// fetch sends a JSON body (or none) and returns the status and the body.
func fetch(t *testing.T, method, url string, body any) (int, string) {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

// kiosk is a client of the terminal's API with its session cookie.
type kiosk struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newKiosk(t *testing.T, base string) *kiosk {
	jar, _ := cookiejar.New(nil)
	return &kiosk{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do sends body (JSON, or raw bytes) and decodes the answer into out.
func (k *kiosk) do(method, path string, body, out any) int {
	k.t.Helper()
	var r *bytes.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
		r = bytes.NewReader(nil)
	case []byte:
		r, ctype = bytes.NewReader(b), "image/png"
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, k.base+path, r)
	req.Header.Set("Content-Type", ctype)
	resp, err := k.c.Do(req)
	if err != nil {
		k.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
