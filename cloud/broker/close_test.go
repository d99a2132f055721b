package broker_test

import (
	"net"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestCloseWhileClientsLeave closes the broker while clients disconnect,
// the case in which mochi's Close can deadlock (mochi-mqtt/server#488):
// Close must return, and the address must be free to bind again.
func TestCloseWhileClientsLeave(t *testing.T) {
	for round := range 5 {
		b := MustOpen(t)
		addr := b.ListenAddr()
		var wg sync.WaitGroup
		for i := range 8 {
			// Half internal clients, half terminals, t-1 and t-2 in
			// turn (more takeovers of one terminal's session would be
			// an identity conflict, refused).
			var c paho.Client
			if i%2 == 0 {
				c = internal(t, b, "cloud-"+string(rune('a'+i)))
			} else {
				tid := []string{"t-1", "t-2"}[i/2%2]
				c = mustConnect(t, options(b, tid, tid, "pw-"+tid))
			}
			wg.Add(1)
			go func() { defer wg.Done(); c.Disconnect(0) }()
		}
		closed := make(chan error, 1)
		go func() { closed <- b.Close() }()
		select {
		case <-closed: // nil, or the time-boxed error: either way it returned
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Close did not return", round)
		}
		wg.Wait()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("round %d: address %s not free after Close: %v", round, addr, err)
		}
		ln.Close()
	}
}
