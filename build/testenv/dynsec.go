package testenv

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// DynsecMosquitto is a Mosquitto process of a test's own with the dynamic
// security plugin, as `comptoir-cloud serve --broker --broker-dynsec`
// needs it (docs/scaling.md, "Terminal credentials on an external broker").
type DynsecMosquitto struct {
	// Addr is the plain listener (host:port), for the cloud; TLSAddr the
	// TLS listener for terminals, when DynsecOptions.CertFile is set.
	Addr, TLSAddr string
	// Cmd is the running process.
	Cmd *exec.Cmd
	// Config is the plugin's configuration file (dynsec.json), which a
	// test may rewrite while Mosquitto is stopped (Restart).
	Config string
	conf   string
	out    *Buffer
}

// DynsecOptions configures StartDynsecMosquitto.
type DynsecOptions struct {
	// Admin and Password are the plugin's admin (also allowed to publish
	// under comptoir/, as the cloud does).
	Admin, Password string
	// CertFile and KeyFile, when set, add a TLS listener.
	CertFile, KeyFile string
	// Extra is appended to mosquitto.conf (global options such as
	// max_queued_messages).
	Extra string
}

// StartDynsecMosquitto starts a Mosquitto with the dynamic security
// plugin (COMPTOIR_MOSQUITTO_DYNSEC, or Debian's path), or skips when
// Mosquitto, mosquitto_ctrl or the plugin is missing. The process is
// killed at the end of tb.
func StartDynsecMosquitto(tb testing.TB, o DynsecOptions) *DynsecMosquitto {
	tb.Helper()
	bin := Command(tb, "mosquitto", "mosquitto")
	ctrl := Command(tb, "mosquitto_ctrl", "mosquitto")
	plugin := Env("COMPTOIR_MOSQUITTO_DYNSEC", "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
	if _, err := os.Stat(plugin); err != nil {
		Skip(tb, "no Mosquitto dynamic security plugin at "+plugin+" (set COMPTOIR_MOSQUITTO_DYNSEC)")
	}
	dir := tb.TempDir()
	js := filepath.Join(dir, "dynsec.json")
	if out, err := exec.Command(ctrl, "dynsec", "init", js, o.Admin, o.Password).CombinedOutput(); err != nil {
		tb.Fatalf("mosquitto_ctrl dynsec init: %v: %s", err, out)
	}
	var d map[string]any
	b, err := os.ReadFile(js)
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range d["roles"].([]any) {
		role := r.(map[string]any)
		if role["rolename"] == "admin" {
			role["acls"] = append(role["acls"].([]any), map[string]any{"acltype": "publishClientSend", "topic": "comptoir/#", "allow": true})
		}
	}
	b, _ = json.Marshal(d)
	if err := os.WriteFile(js, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	m := &DynsecMosquitto{Addr: freeLoopback(tb), Config: js, out: &Buffer{}}
	// per_listener_settings false: the plugin guards every listener.
	// user root: started as root (CI), Mosquitto would become user
	// mosquitto and could not read the test's private temporary directory.
	text := fmt.Sprintf("user root\nplugin %s\nplugin_opt_config_file %s\nlistener %s 127.0.0.1\n", plugin, js, port(m.Addr))
	if o.CertFile != "" {
		m.TLSAddr = freeLoopback(tb)
		text += fmt.Sprintf("listener %s 127.0.0.1\ncertfile %s\nkeyfile %s\n", port(m.TLSAddr), o.CertFile, o.KeyFile)
	}
	m.conf = filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(m.conf, []byte(o.Extra+"\n"+text), 0o600); err != nil {
		tb.Fatal(err)
	}
	m.start(tb, bin)
	tb.Cleanup(func() {
		m.Cmd.Process.Kill()
		m.Cmd.Wait()
		if tb.Failed() {
			tb.Logf("mosquitto:\n%s", m.out.String())
		}
	})
	return m
}

func (m *DynsecMosquitto) start(tb testing.TB, bin string) {
	tb.Helper()
	m.Cmd = exec.Command(bin, "-c", m.conf)
	m.Cmd.Stdout, m.Cmd.Stderr = m.out, m.out
	if err := m.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !Reachable(m.Addr) || (m.TLSAddr != "" && !Reachable(m.TLSAddr)) {
		if time.Now().After(deadline) {
			tb.Fatalf("mosquitto does not listen within 30 s:\n%s", m.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart stops Mosquitto (SIGTERM, which saves the plugin's
// configuration), calls between, and starts it again on the same
// configuration and addresses.
func (m *DynsecMosquitto) Restart(tb testing.TB, between func()) {
	tb.Helper()
	if err := m.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	m.Cmd.Wait()
	between()
	m.start(tb, m.Cmd.Path)
}

// freeLoopback returns a loopback address with a port free at the moment.
func freeLoopback(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
