package ui

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// serveCounting serves a Server with no collaborators (the requests of
// these tests never reach them) on a counting listener.
func serveCounting(t *testing.T) (*Server, *countingListener) {
	t.Helper()
	s := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	s.ln = cl
	go s.app.Listener(cl)
	t.Cleanup(func() { s.Close() })
	return s, cl
}

// postHuge sends POST path with a body of size bytes (chunked when size
// is negative: -size bytes without a Content-Length) from a goroutine, and
// returns the response the server gave, as soon as it gives it.
func postHuge(t *testing.T, addr, path string, size int) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n", path)
	if size >= 0 {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", size)
	} else {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	}
	go func() {
		// Write errors are expected: the server closes the connection
		// once it has answered.
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		chunk := strings.Repeat("a", 64<<10)
		for sent := 0; sent < max(size, -size); sent += len(chunk) {
			data := chunk
			if size < 0 {
				data = fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk)
			}
			if _, err := io.WriteString(conn, data); err != nil {
				return
			}
		}
		if size < 0 {
			io.WriteString(conn, "0\r\n\r\n")
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestHugeBodiesRefusedUnread sends 15 MB bodies without a session: each is
// refused having read no more than a small part of it (before this, fiber
// buffered up to 16 MB of each before any handler ran).
func TestHugeBodiesRefusedUnread(t *testing.T) {
	const huge = 15 << 20
	tests := []struct {
		path   string
		size   int
		status int
	}{
		{"/api/session", huge, http.StatusRequestEntityTooLarge},
		{"/api/session", -huge, http.StatusRequestEntityTooLarge},
		{"/api/scan/image", huge, http.StatusUnauthorized},
		{"/api/scan/image", -huge, http.StatusUnauthorized},
		{"/api/deposits", huge, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.path, tt.size), func(t *testing.T) {
			s, cl := serveCounting(t)
			resp := postHuge(t, s.ln.Addr().String(), tt.path, tt.size)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if !resp.Close {
				t.Error("the connection stays open with the rest of the body unread")
			}
			if n := cl.read.Load(); n > 1<<20 {
				t.Errorf("server read %d bytes of a %d-byte body, want at most 1 MiB", n, huge)
			}
		})
	}
	if got := edge.HTTPStatus(edge.EMEDIATYPE); got != http.StatusUnsupportedMediaType {
		t.Errorf("UNSUPPORTED_MEDIA_TYPE answers %d", got)
	}
}
