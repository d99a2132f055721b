package broker_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/broker"
)

// TestAdmitTerminals: a broker with a TerminalQueue serves the cloud's own
// clients on its internal listener first; terminals are answered only
// after AdmitTerminals, and the internal user never on theirs.
func TestAdmitTerminals(t *testing.T) {
	b := broker.New(broker.PasswordsFunc(func(_ context.Context, tid string) ([]byte, error) {
		return cloud.HashSecret("pw-" + tid), nil
	}))
	b.Addr = "127.0.0.1:0"
	b.Logger = slog.New(slog.DiscardHandler)
	b.TerminalQueue = broker.DefaultTerminalQueue
	if err := b.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if b.InternalURL() == b.URL() {
		t.Fatalf("internal URL %s is the terminals' one", b.InternalURL())
	}
	user, pass := b.InternalCredentials()
	o := options(b, "_cloud-1", user, pass)
	o.Servers = nil
	mustConnect(t, o.AddBroker(b.InternalURL()))

	// Not admitted yet: the connection is made by the kernel's backlog, but
	// the broker neither answers nor closes it (it would close on this
	// malformed CONNECT).
	c, err := net.Dial("tcp", b.ListenAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0x10, 0x00}) // a CONNECT's fixed header; no answer is due anyway
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("broker answered a terminal before AdmitTerminals (%d bytes, %v)", n, err)
	}

	if err := b.AdmitTerminals(); err != nil {
		t.Fatal(err)
	}
	mustConnect(t, options(b, "t-1", "t-1", "pw-t-1"))
	if _, err := connect(t, options(b, "_cloud-2", user, pass)); err == nil {
		t.Fatal("the internal user logged in on the terminals' listener")
	}
}
