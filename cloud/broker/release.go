package broker

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"
)

// releasing is a listener whose connections let go of what they wrap when
// closed. mochi keeps a terminal's client, connection included, for as
// long as it remembers its session (SessionExpiry) once the terminal has
// gone: a closed tls.Conn still holds its record buffers and ciphers, 9 KB
// of the 41 KB that a remembered terminal cost the cloud's heap in
// BenchmarkFleet at 2,000 terminals (docs/scaling.md).
type releasing struct{ net.Listener }

// Accept returns the next connection, wrapped.
func (l releasing) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	r := &releasingConn{local: c.LocalAddr(), remote: c.RemoteAddr()}
	r.conn.Store(&c)
	return r, nil
}

// releasingConn is a connection that drops its inner connection on Close;
// it answers net.ErrClosed from then on. A Read or Write under way keeps
// the inner connection it loaded, which Close has closed.
type releasingConn struct {
	conn          atomic.Pointer[net.Conn]
	local, remote net.Addr
}

func (r *releasingConn) inner() (net.Conn, error) {
	if c := r.conn.Load(); c != nil {
		return *c, nil
	}
	return nil, net.ErrClosed
}

func (r *releasingConn) Read(p []byte) (int, error) {
	c, err := r.inner()
	if err != nil {
		return 0, err
	}
	return c.Read(p)
}

func (r *releasingConn) Write(p []byte) (int, error) {
	c, err := r.inner()
	if err != nil {
		return 0, err
	}
	return c.Write(p)
}

// Close closes the inner connection and lets go of it.
func (r *releasingConn) Close() error {
	if c := r.conn.Swap(nil); c != nil {
		return (*c).Close()
	}
	return nil
}

func (r *releasingConn) LocalAddr() net.Addr  { return r.local }
func (r *releasingConn) RemoteAddr() net.Addr { return r.remote }

func (r *releasingConn) SetDeadline(t time.Time) error {
	c, err := r.inner()
	if err != nil {
		return err
	}
	return c.SetDeadline(t)
}

func (r *releasingConn) SetReadDeadline(t time.Time) error {
	c, err := r.inner()
	if err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (r *releasingConn) SetWriteDeadline(t time.Time) error {
	c, err := r.inner()
	if err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// ConnectionState is the TLS state of an open TLS connection (certNames),
// else the zero state.
func (r *releasingConn) ConnectionState() tls.ConnectionState {
	c, _ := r.inner()
	if tc, ok := c.(*tls.Conn); ok {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}
