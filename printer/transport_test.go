package printer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		url  string
		want edge.Printer
	}{
		{"none", Discard{}},
		{"none://", Discard{}},
		{"spool:///var/lib/comptoir/spool/label", &Spool{Dir: "/var/lib/comptoir/spool/label"}},
		{"spool:///tmp/x/../spool/?ext=prn", &Spool{Dir: "/tmp/spool", Ext: "prn"}},
		{"tcp://192.0.2.7:9100", &TCP{Addr: "192.0.2.7:9100"}},
		{"tcp://[::1]:9100", &TCP{Addr: "[::1]:9100"}},
		{"file:///dev/usb/lp0", &File{Path: "/dev/usb/lp0"}},
		{"cups://Zebra_GK420d", &CUPS{Queue: "Zebra_GK420d"}},
	}
	for _, tt := range tests {
		got, err := Open(tt.url)
		if err != nil {
			t.Errorf("Open(%q): %v", tt.url, err)
		} else if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Open(%q) = %#v, want %#v", tt.url, got, tt.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, url := range []string{
		"", "lpt1", "http://printer/", "ipp://printer/queue", "spool://relative/dir", "spool://",
		"spool:///tmp/x?ext=../../etc", "tcp://printer", "tcp://:9100", "tcp://printer:9100/path",
		"file://host/dev/lp0", "file:relative", "cups://", "cups://-oevil", "cups://queue/extra",
		"tcp://%zz",
	} {
		_, err := Open(url)
		if code := edge.ErrorCode(err); code != edge.EINVALID {
			t.Errorf("Open(%q): error %v (code %q), want %s", url, err, code, edge.EINVALID)
			continue
		}
		if msg := edge.ErrorMessage(err); !strings.Contains(msg, url) && url != "" {
			t.Errorf("Open(%q): message %q does not name the URL", url, msg)
		}
	}
}

func TestDiscard(t *testing.T) {
	p, err := Open("none")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(context.Background(), "job", []byte("^XA^XZ")); err != nil {
		t.Fatal(err)
	}
}

func TestSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool", "label")
	p, err := Open("spool://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	label, receipt := []byte("^XA\n^FDone^FS\n^XZ\n"), []byte{esc, '@', 'x'}
	if err := p.Print(ctx, "job-1", label); err != nil {
		t.Fatal(err)
	}
	if err := p.Print(ctx, "job-2", receipt); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("spool directory mode %v, want 0700", perm)
	}
	// Printing a job again replaces its file: a retry never duplicates it.
	label2 := []byte("^XA\n^FDtwo^FS\n^XZ\n")
	if err := p.Print(ctx, "job-1", label2); err != nil {
		t.Fatal(err)
	}
	assertDir(t, dir, map[string][]byte{"job-1.zpl": label2, "job-2.escpos": receipt})

	for _, id := range []string{"", "../escape", ".hidden", "a/b", "-x", strings.Repeat("a", 129)} {
		err := p.Print(ctx, id, label)
		if code := edge.ErrorCode(err); code != edge.EINVALID {
			t.Errorf("Print(%q): error %v, want code %s", id, err, edge.EINVALID)
		}
	}
	assertDir(t, dir, map[string][]byte{"job-1.zpl": label2, "job-2.escpos": receipt})
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.zpl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a job id escaped the spool directory: %v", err)
	}

	p = &Spool{Dir: dir, Ext: "prn"}
	if err := p.Print(ctx, "job-3", []byte("raw")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "job-3.prn")); string(got) != "raw" {
		t.Errorf("job-3.prn holds %q", got)
	}
}

// assertDir fails t unless dir holds exactly want (no temporary files left).
func assertDir(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("spool holds %q, want %d files", names, len(want))
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s holds %q, want %q", name, got, data)
		}
	}
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			got <- b
		}
	}()

	p, err := Open("tcp://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{[]byte("^XA^FDfirst^FS^XZ"), bytes.Repeat([]byte("0123456789"), 100_000)} {
		if err := p.Print(context.Background(), "job", data); err != nil {
			t.Fatal(err)
		}
		if b := <-got; !bytes.Equal(b, data) {
			t.Fatalf("printer received %d bytes, want the %d sent", len(b), len(data))
		}
	}
}

func TestTCPRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := (&TCP{Addr: addr}).Print(context.Background(), "job", []byte("x")); err == nil {
		t.Fatal("printing to a closed port succeeded")
	}
}

// TestTCPCancel checks that cancelling the context ends a write to a printer
// that accepted the connection but stopped reading (paper out).
func TestTCPCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cancel() // never read, and give up
		<-done
	}()
	data := make([]byte, 64<<20)
	err = (&TCP{Addr: ln.Addr().String()}).Print(ctx, "job", data)
	if err == nil {
		t.Fatal("a write that could not finish succeeded")
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lp0")
	if err := os.WriteFile(path, []byte("before;"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one;", "two;"} {
		if err := p.Print(context.Background(), "job", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "before;one;two;" {
		t.Fatalf("device holds %q", got)
	}

	// A missing device is an error, never a new file.
	missing := filepath.Join(t.TempDir(), "lp1")
	if err := (&File{Path: missing}).Print(context.Background(), "job", []byte("x")); err == nil {
		t.Fatal("printing to a missing device succeeded")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the missing device was created: %v", err)
	}
}

// TestCUPS runs a stand-in for lp that records its arguments and input, to
// check the command line and bytes the transport hands to CUPS.
func TestCUPS(t *testing.T) {
	dir := t.TempDir()
	lp := filepath.Join(dir, "lp")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + dir + "/args\ncat > " + dir + "/stdin\n" +
		"[ \"$2\" = broken ] && { echo 'lp: The printer or class does not exist.' >&2; exit 1; }\nexit 0\n"
	if err := os.WriteFile(lp, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte{esc, '@', 0, 1, 2, 0xff, 'x'}
	p := &CUPS{Queue: "receipt", LP: lp}
	if err := p.Print(context.Background(), "job-7", data); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if got, want := string(args), "-d\nreceipt\n-o\nraw\n-t\njob-7\n"; got != want {
		t.Errorf("lp arguments %q, want %q", got, want)
	}
	if stdin, _ := os.ReadFile(filepath.Join(dir, "stdin")); !bytes.Equal(stdin, data) {
		t.Errorf("lp read % x, want % x", stdin, data)
	}

	err := (&CUPS{Queue: "broken", LP: lp}).Print(context.Background(), "job-8", data)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("error %v, want lp's message", err)
	}
}
