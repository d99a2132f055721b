package powerfs

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// The file system is served by a process of its own, the test binary run
// again with serveEnv set: a process must never touch the files it serves
// through FUSE (a page fault on a mapped file, which Badger makes, holds the
// process's memory map lock while it waits for the server; if the server is
// that process and needs the lock to grow its heap, both wait forever). The
// test talks to it over the child's stdin and stdout, one command a line.

const serveEnv = "COMPTOIR_POWERFS_DIR"

// FS is a mounted power-loss file system, served by a child process.
type FS struct {
	// Dir is where it is mounted.
	Dir string

	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// Serve serves a power-loss file system and exits when the test binary was
// started for that by Mount; it returns at once otherwise. Call it first in
// the TestMain of a package that uses Mount.
func Serve() {
	dir := os.Getenv(serveEnv)
	if dir == "" {
		return
	}
	p := &server{dir: dir, nextIn: 2}
	p.root = p.newNode(true)
	p.root.ino = 1
	if err := p.mount(); err != nil {
		fmt.Printf("error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(0)
	}
	fmt.Println("ok")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "cut":
			p.cut()
			fmt.Println("ok")
		case "restart":
			if err := p.restart(); err != nil {
				fmt.Printf("error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			fmt.Println("ok")
		case "stats":
			b, _ := json.Marshal(p.counts())
			fmt.Printf("ok %s\n", b)
		}
	}
	// Stdin closed: the test is over.
	p.mu.Lock()
	s := p.fuse
	p.mu.Unlock()
	if s != nil && unmount(s) != nil {
		// Still in use by the test that ended: detach it, so that no
		// process waits on a server that is gone.
		syscall.Unmount(dir, syscall.MNT_DETACH)
	}
	os.Exit(0)
}

// Mount mounts a new, empty power-loss file system on a temporary directory
// of tb, served by a child process, and unmounts it at the end of the test.
// It skips (or fails under COMPTOIR_REQUIRE_INTEGRATION=1) where FUSE is
// not available: no /dev/fuse, or not allowed to mount.
func Mount(tb testing.TB) *FS {
	tb.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		testenv.Skip(tb, "no /dev/fuse: the power-loss file system needs FUSE (modprobe fuse; in a container, --device /dev/fuse --cap-add SYS_ADMIN)")
	}
	p := &FS{Dir: tb.TempDir()}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), serveEnv+"="+p.Dir)
	p.cmd.Stderr = os.Stderr
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p.out = bufio.NewScanner(out)
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		p.in.Close()
		p.cmd.Wait()
	})
	if _, err := p.reply(); err != nil {
		testenv.Skip(tb, "cannot mount a FUSE file system (run as root, or install fuse3 for fusermount3): "+err.Error())
	}
	return p
}

// reply reads the server's answer to a command.
func (p *FS) reply() (string, error) {
	if !p.out.Scan() {
		return "", fmt.Errorf("powerfs: the server ended (is powerfs.Serve called in TestMain?)")
	}
	line := p.out.Text()
	if rest, ok := strings.CutPrefix(line, "ok"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", fmt.Errorf("powerfs: %s", strings.TrimPrefix(line, "error "))
}

func (p *FS) do(cmd string) (string, error) {
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		return "", fmt.Errorf("powerfs %s: %w", cmd, err)
	}
	return p.reply()
}

// Cut cuts the power: every operation fails from now on, so nothing more is
// made durable. Kill the programs using the file system, close what the
// test has open on it, then call Restart.
func (p *FS) Cut() error {
	_, err := p.do("cut")
	return err
}

// Restart unmounts the file system, drops everything that was not durable
// and mounts it again: the state a disk would show after a power cut.
func (p *FS) Restart() error {
	_, err := p.do("restart")
	return err
}

// Stats returns what the file system has counted so far.
func (p *FS) Stats() (Stats, error) {
	line, err := p.do("stats")
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	err = json.Unmarshal([]byte(line), &s)
	return s, err
}
