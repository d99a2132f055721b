package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud/server"
)

// TestBrokerSizingFlags: the embedded broker's queue a terminal and accept
// rate take sane values and refuse others, naming the flag.
func TestBrokerSizingFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		bad  string // the flag the error names, "" when valid
	}{
		{nil, ""},
		{[]string{"--mqtt-terminal-queue", "64", "--mqtt-accept-rate", "0"}, ""},
		{[]string{"--mqtt-accept-rate", "250.5"}, ""},
		{[]string{"--mqtt-terminal-queue", "8"}, "--mqtt-terminal-queue"},
		{[]string{"--mqtt-terminal-queue", "100000"}, "--mqtt-terminal-queue"},
		{[]string{"--mqtt-accept-rate", "-1"}, "--mqtt-accept-rate"},
		{[]string{"--pprof", "127.0.0.1:6060"}, ""},
		{[]string{"--pprof", "0.0.0.0:6060"}, "--pprof"},
		{[]string{"--pprof", ":6060"}, "--pprof"},
	} {
		err := server.NewMain().ParseFlags(append([]string{"--data", t.TempDir()}, tt.args...))
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("serve %v: %v", tt.args, err)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("serve %v: %v, want an error naming %s", tt.args, err, tt.bad)
		}
	}
}

// TestPprof: --pprof serves the heap profile on its own address, and the
// API's address does not.
func TestPprof(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	m := MustRun(t, t.TempDir(), "--pprof", addr)
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("http://" + addr + "/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("pprof heap: %d %.80q, want 200 and a heap profile", code, body)
	}
	if code, _ := get(m.HTTPURL() + "/debug/pprof/heap"); code == http.StatusOK {
		t.Errorf("the API answers /debug/pprof/heap: %d", code)
	}
}
