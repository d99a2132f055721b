package printer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Status asks a ZPL printer for its host status (~HS) over its own
// connection and reads the paper out and pause flags of the first answer
// line and the head open flag of the second. It returns an error when the
// printer cannot be reached or gives no well-formed answer within
// ReadTimeout (3 s by default). Only ZPL printers understand ~HS (an
// ESC/POS printer would print it as text), so Open returns a ZPLTCP only
// for tcp://HOST:PORT?status=zpl.
func (p *ZPLTCP) Status(ctx context.Context) (edge.PrinterStatus, error) {
	conn, done, err := p.statusConn(ctx)
	if err != nil {
		return edge.PrinterStatus{}, err
	}
	defer done()
	if _, err := conn.Write([]byte("~HS")); err != nil {
		return edge.PrinterStatus{}, fmt.Errorf("printer status %s: %w", p.Addr, err)
	}
	// The answer is three lines, each framed by STX and ETX and ended by
	// CR LF; the first two say what matters here.
	var buf []byte
	chunk := make([]byte, 256)
	for bytes.Count(buf, []byte{0x03}) < 2 {
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			return edge.PrinterStatus{}, fmt.Errorf("printer status %s: %w", p.Addr, err)
		}
		if len(buf) > 4096 {
			return edge.PrinterStatus{}, fmt.Errorf("printer status %s: answer too long", p.Addr)
		}
	}
	st, err := parseHostStatus(buf)
	if err != nil {
		return edge.PrinterStatus{}, fmt.Errorf("printer status %s: %w", p.Addr, err)
	}
	return st, nil
}

// statusConn opens a connection for a status question, with a deadline of
// ReadTimeout (3 s by default) or ctx's, whichever comes first, and cut
// short when ctx is cancelled. done closes it.
func (p TCP) statusConn(ctx context.Context) (conn net.Conn, done func(), err error) {
	d := net.Dialer{Timeout: durOr(p.DialTimeout, 5*time.Second)}
	conn, err = d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("printer status: %w", err)
	}
	deadline := time.Now().Add(durOr(p.ReadTimeout, 3*time.Second))
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return conn, func() { stop(); conn.Close() }, nil
}

// parseHostStatus reads the first two lines of a ~HS answer:
//
//	<STX>aaa,b,c,dddd,eee,f,g,h,iii,j,k,l<ETX><CR><LF>
//	<STX>mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www<ETX><CR><LF>
//
// where b is the paper out flag, c the pause flag and o the head up (open)
// flag, each "1" when set.
func parseHostStatus(b []byte) (edge.PrinterStatus, error) {
	var lines [][]string
	for len(lines) < 2 {
		start := bytes.IndexByte(b, 0x02)
		if start < 0 {
			return edge.PrinterStatus{}, fmt.Errorf("malformed ~HS answer")
		}
		end := bytes.IndexByte(b[start:], 0x03)
		if end < 0 {
			return edge.PrinterStatus{}, fmt.Errorf("malformed ~HS answer")
		}
		lines = append(lines, strings.Split(string(b[start+1:start+end]), ","))
		b = b[start+end+1:]
	}
	if len(lines[0]) < 3 || len(lines[1]) < 3 {
		return edge.PrinterStatus{}, fmt.Errorf("malformed ~HS answer")
	}
	flag := func(s string) bool { return strings.TrimSpace(s) == "1" }
	switch {
	case flag(lines[1][2]):
		return edge.PrinterStatus{Reason: edge.PrinterHeadOpen, Message: "print head open"}, nil
	case flag(lines[0][1]):
		return edge.PrinterStatus{Reason: edge.PrinterPaperOut, Message: "paper out"}, nil
	case flag(lines[0][2]):
		return edge.PrinterStatus{Reason: edge.PrinterPaused, Message: "paused"}, nil
	}
	return edge.PrinterStatus{Up: true}, nil
}

// ESCPOSTCP is a TCP printer that speaks ESC/POS: the print runner asks it
// for its real-time status (DLE EOT) before each job and while idle.
type ESCPOSTCP struct {
	TCP
}

var _ edge.StatusPrinter = (*ESCPOSTCP)(nil)

// Status asks an ESC/POS printer for its real-time status with DLE EOT 1
// (printer: offline), 2 (offline cause: cover open) and 4 (roll paper
// sensor: paper end), one byte answered for each. It returns an error when
// the printer cannot be reached or does not answer the three within
// ReadTimeout (3 s by default).
func (p *ESCPOSTCP) Status(ctx context.Context) (edge.PrinterStatus, error) {
	conn, done, err := p.statusConn(ctx)
	if err != nil {
		return edge.PrinterStatus{}, err
	}
	defer done()
	const dle, eot = 0x10, 0x04
	if _, err := conn.Write([]byte{dle, eot, 1, dle, eot, 2, dle, eot, 4}); err != nil {
		return edge.PrinterStatus{}, fmt.Errorf("printer status %s: %w", p.Addr, err)
	}
	var b [3]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return edge.PrinterStatus{}, fmt.Errorf("printer status %s: %w", p.Addr, err)
	}
	return parseRealTimeStatus(b)
}

// parseRealTimeStatus reads the answers to DLE EOT 1, 2 and 4. Each has
// bits 1 and 4 set and bits 0 and 7 clear; in the first, bit 3 is
// offline; in the second, bit 2 is cover open; in the fourth, bits 5 and 6
// are paper end.
func parseRealTimeStatus(b [3]byte) (edge.PrinterStatus, error) {
	for _, c := range b {
		if c&0x93 != 0x12 {
			return edge.PrinterStatus{}, fmt.Errorf("malformed DLE EOT answer % x", b)
		}
	}
	switch {
	case b[1]&0x04 != 0:
		return edge.PrinterStatus{Reason: edge.PrinterHeadOpen, Message: "cover open"}, nil
	case b[2]&0x60 != 0:
		return edge.PrinterStatus{Reason: edge.PrinterPaperOut, Message: "paper out"}, nil
	case b[0]&0x08 != 0:
		return edge.PrinterStatus{Reason: edge.PrinterPaused, Message: "offline"}, nil
	}
	return edge.PrinterStatus{Up: true}, nil
}
