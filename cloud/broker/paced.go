package broker

import (
	"net"
	"time"
)

// paced is a listener that returns at most one connection every every:
// those beyond wait in the kernel's accept queue. Accept is called by one
// goroutine (mochi's listener loop), so it needs no lock.
type paced struct {
	net.Listener
	every time.Duration
	next  time.Time
}

// Accept waits for the connection's turn, then accepts it.
func (p *paced) Accept() (net.Conn, error) {
	if d := time.Until(p.next); d > 0 {
		time.Sleep(d)
	}
	c, err := p.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// A listener idle for a while does not bank turns for a burst.
	if now := time.Now(); p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(p.every)
	return c, nil
}
