package broker

import (
	"net"
	"testing"
	"time"
)

// TestPacedAccept: connections made at once are accepted one every
// interval, never faster (a lower bound, which slowness cannot break).
func TestPacedAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n, every = 11, 20 * time.Millisecond
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	p := &paced{Listener: ln, every: every}
	start := time.Now()
	for range n {
		c, err := p.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if got, want := time.Since(start), (n-1)*every; got < want {
		t.Fatalf("%d connections accepted in %v, want at least %v", n, got, want)
	}
}
