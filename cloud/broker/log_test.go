package broker_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/sync/wire"
)

// logLines returns the lines of a log.
func logLines(b *testenv.Buffer) []string { return strings.Split(strings.TrimSpace(b.String()), "\n") }

// checkShort fails t when a log line is longer than a line of facts:
// a packet's payload must never be dumped.
func checkShort(t *testing.T, lines []string) {
	t.Helper()
	for _, l := range lines {
		if len(l) > 512 {
			t.Errorf("log line of %d bytes: %.300s...", len(l), l)
		}
	}
}

// TestLogNamesPacketNotPayload makes mochi log a packet it refuses (a
// terminal publishing 64 KiB to another's events topic, after which it is
// disconnected): the log names the packet's topic and size, and holds
// none of its payload.
func TestLogNamesPacketNotPayload(t *testing.T) {
	var buf testenv.Buffer
	b := mustOpenLogged(t, slog.New(slog.NewTextHandler(&buf, nil)))
	c := mustConnect(t, options(b, "t-1", "t-1", "pw-t-1"))
	topic := wire.TerminalTopic("t-2", wire.KindEvents)
	c.Publish(topic, 1, false, bytes.Repeat([]byte("x"), 64<<10)).Wait()
	b.Close()
	lines := logLines(&buf)
	checkShort(t, lines)
	found := false
	for _, l := range lines {
		if strings.Contains(l, "error processing packet") {
			found = true
			if !strings.Contains(l, topic) || !strings.Contains(l, "payload=65536 bytes") {
				t.Errorf("refused packet logged as %q, want its topic and size", l)
			}
		}
	}
	if !found {
		t.Errorf("no warning of the refused packet in the log:\n%s", strings.Join(lines, "\n"))
	}
}

// TestCloseWhileTerminalPublishes closes the broker while a terminal
// publishes batches of 64 KiB, as when the cloud stops while a terminal
// drains its outbox: the acknowledgements cannot be written to the
// connections being closed, which mochi logs with the whole packet. The
// log stays short, with no word of connections the broker closed itself.
func TestCloseWhileTerminalPublishes(t *testing.T) {
	var buf testenv.Buffer
	b := mustOpenLogged(t, slog.New(slog.NewTextHandler(&buf, nil)))
	// A write timeout, so that a publish blocked on the closed
	// connection gives up.
	c := mustConnect(t, options(b, "t-1", "t-1", "pw-t-1").SetWriteTimeout(2*time.Second))
	topic := wire.TerminalTopic("t-1", wire.KindEvents)
	batch := bytes.Repeat([]byte("x"), 64<<10)
	first := c.Publish(topic, 1, false, batch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			c.Publish(topic, 1, false, batch)
		}
	}()
	wait(t, first)
	b.Close()
	<-done
	lines := logLines(&buf)
	checkShort(t, lines)
	for _, l := range lines {
		if strings.Contains(l, "closed network connection") || strings.Contains(l, "shutting down") {
			t.Errorf("the broker's own closing logged: %q", l)
		}
	}
}
