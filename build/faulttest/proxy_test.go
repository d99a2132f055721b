package faulttest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy is a loopback TCP proxy in front of the broker: the tests cut it
// (every connection dropped, new ones refused), stall it (connections held
// open, nothing forwarded, like a dead mobile link) and throttle what the
// terminal sends, so that a drain lasts long enough to be killed midway.
type proxy struct {
	ln net.Listener

	mu     sync.Mutex
	cond   *sync.Cond
	target string
	state  proxyState
	conns  map[net.Conn]struct{}
	// rate bounds the bytes per second from client to upstream; 0 for none.
	rate int
}

type proxyState int

const (
	proxyOpen proxyState = iota
	proxyCut
	proxyStalled
)

func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.serve()
	tb.Cleanup(func() {
		ln.Close()
		p.setState(proxyCut)
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }
func (p *proxy) url() string  { return "tcp://" + p.addr() }

func (p *proxy) setRate(r int) { p.mu.Lock(); p.rate = r; p.mu.Unlock() }

// setState changes the proxy's state; cutting closes every connection.
func (p *proxy) setState(s proxyState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
	if s == proxyCut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
	p.cond.Broadcast()
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *proxy) handle(c net.Conn) {
	p.mu.Lock()
	if p.state == proxyCut {
		p.mu.Unlock()
		c.Close()
		return
	}
	target := p.target
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.state == proxyCut {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	go p.pipe(up, c, true)
	p.pipe(c, up, false)
}

// pipe copies from src to dst, waiting while the proxy is stalled and
// pacing client-to-upstream bytes to the rate.
func (p *proxy) pipe(dst, src net.Conn, upstream bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.state == proxyStalled {
				p.cond.Wait()
			}
			cut, rate := p.state == proxyCut, p.rate
			p.mu.Unlock()
			if cut {
				return
			}
			if upstream && rate > 0 {
				time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}
