package broker_test

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/sync/wire"
)

// cli runs a mosquitto-clients tool against b as terminal t-1 and returns
// its combined output and exit error.
func cli(t *testing.T, b interface{ ListenAddr() string }, tool string, args ...string) (string, error) {
	t.Helper()
	bin := testenv.Command(t, tool, "mosquitto-clients")
	host, port, _ := net.SplitHostPort(b.ListenAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := []string{"-h", host, "-p", port, "-u", "t-1", "-P", "pw-t-1", "-i", "t-1", "-q", "1"}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).CombinedOutput()
	return string(out), err
}

// TestCLIRefused checks the embedded broker's rules with Debian's
// mosquitto_pub and mosquitto_sub, logged in as terminal t-1: publishing
// under t-2's topic and subscribing to t-2's acks are refused, while its
// own topics work.
func TestCLIRefused(t *testing.T) {
	b := MustOpen(t)
	cloud := internal(t, b, "cloud-cli")
	got := make(chan string, 8)
	wait(t, cloud.Subscribe(wire.EventsFilter, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() }))

	t.Run("publish under another terminal", func(t *testing.T) {
		out, err := cli(t, b, "mosquitto_pub", "-V", "5", "-t", wire.TerminalTopic("t-2", wire.KindEvents), "-m", `{"v":1}`)
		if !strings.Contains(out, "Not authorized") {
			t.Errorf("mosquitto_pub to t-2's events: err %v, output %q; want Not authorized", err, out)
		}
		// The refused message must never reach the cloud: t-1's own,
		// sent after it, is the first to arrive.
		if out, err := cli(t, b, "mosquitto_pub", "-V", "5", "-t", wire.TerminalTopic("t-1", wire.KindEvents), "-m", `{"v":1}`); err != nil {
			t.Fatalf("mosquitto_pub to its own events: %v: %s", err, out)
		}
		select {
		case topic := <-got:
			if want := wire.TerminalTopic("t-1", wire.KindEvents); topic != want {
				t.Errorf("cloud received %s, want %s", topic, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("cloud never received t-1's own events")
		}
	})

	t.Run("subscribe to another terminal's acks", func(t *testing.T) {
		for _, v := range []string{"311", "5"} {
			out, err := cli(t, b, "mosquitto_sub", "-V", v, "-t", wire.TerminalTopic("t-2", wire.KindAcks), "-C", "1", "-W", "2")
			// mosquitto_sub says so and exits 0.
			if !strings.Contains(out, "All subscription requests were denied") {
				t.Errorf("mosquitto_sub -V %s to t-2's acks: err %v, output %q; want the subscription denied", v, err, out)
			}
		}
	})

	t.Run("subscribe to its own acks", func(t *testing.T) {
		done := make(chan struct{})
		var out string
		var err error
		go func() {
			defer close(done)
			out, err = cli(t, b, "mosquitto_sub", "-V", "5", "-c", "-t", wire.TerminalTopic("t-1", wire.KindAcks), "-C", "1", "-W", "15")
		}()
		// Publish until the subscriber, once in place, gets one.
		for {
			select {
			case <-done:
				if err != nil || !strings.Contains(out, `"ranges"`) {
					t.Fatalf("mosquitto_sub to its own acks: err %v, output %q", err, out)
				}
				return
			case <-time.After(100 * time.Millisecond):
				cloud.Publish(wire.TerminalTopic("t-1", wire.KindAcks), 1, false, `{"v":1,"ranges":[[1,1]]}`)
			}
		}
	})
}
