package printer

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

// printerUnderTest is a transport and a way to read back what it delivered.
type printerUnderTest struct {
	p edge.Printer
	// delivered returns the jobs received so far, in order.
	delivered func(t *testing.T, want int) [][]byte
}

// TestPrinters runs one contract against every transport that delivers bytes:
// jobs arrive whole and in order, and a cancelled context delivers nothing.
func TestPrinters(t *testing.T) {
	transports := map[string]func(t *testing.T) printerUnderTest{
		"spool": openSpool, "tcp": openTCP, "file": openFile, "cups": openCUPS,
	}
	for name, open := range transports {
		t.Run(name, func(t *testing.T) {
			put := open(t)
			jobs := [][]byte{[]byte("^XA^FDone^FS^XZ"), {esc, '@', 0, 0xff, lf}, bytes.Repeat([]byte("z"), 200_000)}
			for i, data := range jobs {
				if err := put.p.Print(context.Background(), "job-"+string(rune('a'+i)), data); err != nil {
					t.Fatalf("job %d: %v", i, err)
				}
			}
			got := put.delivered(t, len(jobs))
			if len(got) != len(jobs) {
				t.Fatalf("%d jobs delivered, want %d", len(got), len(jobs))
			}
			for i := range jobs {
				if !bytes.Equal(got[i], jobs[i]) {
					t.Errorf("job %d: delivered %d bytes, want the %d sent", i, len(got[i]), len(jobs[i]))
				}
			}

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := put.p.Print(ctx, "job-z", []byte("late")); err == nil {
				t.Fatal("printing with a cancelled context succeeded")
			}
			if got := put.delivered(t, len(jobs)); len(got) != len(jobs) {
				t.Fatalf("a cancelled job was delivered: %d jobs", len(got))
			}
		})
	}
}

func openSpool(t *testing.T) printerUnderTest {
	dir := t.TempDir()
	return printerUnderTest{p: &Spool{Dir: dir}, delivered: func(t *testing.T, _ int) [][]byte {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names) // job-a, job-b, ...
		var jobs [][]byte
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, b)
		}
		return jobs
	}}
}

func openTCP(t *testing.T) printerUnderTest {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan []byte, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			ch <- b
		}
	}()
	var jobs [][]byte
	return printerUnderTest{p: &TCP{Addr: ln.Addr().String()}, delivered: func(t *testing.T, want int) [][]byte {
		// Each Print returned after closing its connection; the listener
		// may still be reading the last one.
		for len(jobs) < want {
			jobs = append(jobs, <-ch)
		}
		for {
			select {
			case b := <-ch:
				jobs = append(jobs, b)
			default:
				return jobs
			}
		}
	}}
}

func openFile(t *testing.T) printerUnderTest {
	path := filepath.Join(t.TempDir(), "lp0")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return printerUnderTest{p: &File{Path: path}, delivered: func(t *testing.T, _ int) [][]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return splitJobs(b)
	}}
}

// openCUPS uses a stand-in for lp that appends each job to a file, so the
// contract checks what the transport hands to CUPS.
func openCUPS(t *testing.T) printerUnderTest {
	dir := t.TempDir()
	lp, out := filepath.Join(dir, "lp"), filepath.Join(dir, "jobs")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lp, []byte("#!/bin/sh\ncat >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return printerUnderTest{p: &CUPS{Queue: "q", LP: lp}, delivered: func(t *testing.T, _ int) [][]byte {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return splitJobs(b)
	}}
}

// splitJobs cuts the concatenated jobs of the contract where each begins; a
// stream device keeps no boundaries.
func splitJobs(b []byte) [][]byte {
	var jobs [][]byte
	for _, start := range [][]byte{{esc, '@'}, []byte("zzz")} {
		i := bytes.Index(b, start)
		if i < 0 {
			break
		}
		jobs, b = append(jobs, b[:i]), b[i:]
	}
	if len(b) > 0 {
		jobs = append(jobs, b)
	}
	return jobs
}
