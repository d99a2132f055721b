package printer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Open returns the printer that rawURL names:
//
//   - spool:///DIR writes each job to DIR/<job id>.<ext> (see Spool);
//   - tcp://HOST:PORT sends raw bytes to a network printer, usually port 9100;
//     with ?status=zpl it asks a ZPL printer for its host status (~HS)
//     before each job and sends nothing while it is out of paper, its head
//     is open or it is paused; with ?status=escpos it asks an ESC/POS
//     printer the same with DLE EOT (paper end, cover open, offline);
//   - file:///dev/usb/lp0 writes to a device, such as a USB printer;
//   - cups://QUEUE sends a raw job to a CUPS queue through lp;
//   - none discards every job.
//
// It returns EINVALID, naming the URL, for a malformed URL or an unknown scheme.
func Open(rawURL string) (edge.Printer, error) {
	if rawURL == "none" {
		return Discard{}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, edge.Errorf(edge.EINVALID, "printer URL %q: %v", rawURL, err)
	}
	bad := func(why string) error {
		return edge.Errorf(edge.EINVALID, "printer URL %q: %s", rawURL, why)
	}
	switch u.Scheme {
	case "none":
		return Discard{}, nil
	case "spool":
		if u.Host != "" || !filepath.IsAbs(u.Path) {
			return nil, bad("want an absolute directory, as in spool:///var/lib/comptoir/spool/label")
		}
		ext := u.Query().Get("ext")
		if ext != "" && !validName(ext) {
			return nil, bad("bad ext")
		}
		return &Spool{Dir: filepath.Clean(u.Path), Ext: ext}, nil
	case "tcp":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" || port == "" || u.Path != "" {
			return nil, bad("want tcp://HOST:PORT")
		}
		switch u.Query().Get("status") {
		case "", "none":
			return &TCP{Addr: u.Host}, nil
		case "zpl":
			return &ZPLTCP{TCP: TCP{Addr: u.Host}}, nil
		case "escpos":
			return &ESCPOSTCP{TCP: TCP{Addr: u.Host}}, nil
		}
		return nil, bad("status is zpl (ask ~HS before each job), escpos (ask DLE EOT) or none")
	case "file":
		if u.Host != "" || !filepath.IsAbs(u.Path) {
			return nil, bad("want an absolute path, as in file:///dev/usb/lp0")
		}
		return &File{Path: filepath.Clean(u.Path)}, nil
	case "cups":
		queue := u.Host
		if !validName(queue) || (u.Path != "" && u.Path != "/") {
			return nil, bad("want cups://QUEUE with a queue name of letters, digits, '-', '_' or '.'")
		}
		return &CUPS{Queue: queue}, nil
	}
	return nil, bad("unknown scheme (want spool, tcp, file, cups or none)")
}

// Discard is a printer that takes every job and prints nothing.
type Discard struct{}

// Print discards data.
func (Discard) Print(ctx context.Context, jobID string, data []byte) error { return nil }

// TCP sends each job over its own connection to a printer's raw port
// (JetDirect, usually 9100).
type TCP struct {
	Addr string
	// DialTimeout defaults to 5 s, WriteTimeout to 30 s, ReadTimeout (of
	// the ~HS answer) to 3 s.
	DialTimeout  time.Duration
	WriteTimeout time.Duration
	ReadTimeout  time.Duration
}

// ZPLTCP is a TCP printer that speaks ZPL: the print runner asks it for its
// host status (~HS) before each job and while idle.
type ZPLTCP struct {
	TCP
}

var _ edge.StatusPrinter = (*ZPLTCP)(nil)

// Print connects, writes data and closes. Any error means the printer did not
// take the job.
func (p *TCP) Print(ctx context.Context, jobID string, data []byte) error {
	d := net.Dialer{Timeout: durOr(p.DialTimeout, 5*time.Second)}
	conn, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return fmt.Errorf("print tcp: %w", err)
	}
	deadline := time.Now().Add(durOr(p.WriteTimeout, 30*time.Second))
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetWriteDeadline(deadline)
	// Cancelling ctx interrupts a write to a printer that stopped reading.
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	_, err = conn.Write(data)
	stop()
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("print tcp %s: %w", p.Addr, err)
	}
	return nil
}

// File writes each job to a file that must exist, usually a printer device
// such as /dev/usb/lp0. It never creates the file: a missing device is an
// error, not a new regular file.
type File struct {
	Path string
}

// Print opens the file for appending, writes data and closes it.
func (p *File) Print(ctx context.Context, jobID string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("print file: %w", err)
	}
	f, err := os.OpenFile(p.Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("print file: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("print file %s: %w", p.Path, err)
	}
	return nil
}

// CUPS sends each job to a CUPS queue as a raw job, through lp.
type CUPS struct {
	Queue string
	// LP is the lp command; "lp" (found on PATH) by default.
	LP string
}

// Print runs lp -d QUEUE -o raw with data on its standard input.
func (p *CUPS) Print(ctx context.Context, jobID string, data []byte) error {
	args := []string{"-d", p.Queue, "-o", "raw"}
	if validName(jobID) {
		args = append(args, "-t", jobID)
	}
	cmd := exec.CommandContext(ctx, strOr(p.LP, "lp"), args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("print cups %s: %w: %s", p.Queue, err, msg)
		}
		return fmt.Errorf("print cups %s: %w", p.Queue, err)
	}
	return nil
}

// validName reports whether s is a safe file or queue name: 1 to 128 letters,
// digits, '-', '_' or '.', not starting with '.' or '-' (so that it is
// neither a hidden file nor taken for a command-line option).
func validName(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func durOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func strOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
