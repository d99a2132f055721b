package server_test

import (
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
