// Package scaletest stands in for counter scales in tests: a fake MT-SICS
// scale on a pseudo-terminal pair, whose device file the terminal opens as
// it would open /dev/ttyUSB0, and which answers its weight requests with
// real protocol bytes.
package scaletest

import (
	"bufio"
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/creack/pty"
)

// SICS is a fake MT-SICS scale. Path is the device to configure; the test
// sets what the scale shows with Show.
type SICS struct {
	Path string

	master, slave *os.File
	mu            sync.Mutex
	answer        string
	asked         int
}

// NewSICS opens a pseudo-terminal pair and answers each "SI" the terminal
// writes on it with the line given to Show (nothing before the first Show,
// like a scale that is off). It closes with tb.
func NewSICS(tb testing.TB) *SICS {
	tb.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		tb.Skipf("no pseudo-terminal: %v", err)
	}
	s := &SICS{Path: slave.Name(), master: master, slave: slave}
	go s.serve()
	tb.Cleanup(func() {
		// Closing our end of the slave and the master ends serve's read
		// (EIO) once the terminal has closed the device too.
		slave.Close()
		master.Close()
	})
	return s
}

// Show sets the line the scale answers from now on, without its CR LF,
// e.g. "S S      1.234 kg", "S D      0.950 kg", "S +".
func (s *SICS) Show(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = line
}

// Asked returns how many weight requests the scale has received.
func (s *SICS) Asked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked
}

func (s *SICS) serve() {
	sc := bufio.NewScanner(s.master)
	for sc.Scan() {
		cmd := bytes.TrimRight(sc.Bytes(), "\r")
		s.mu.Lock()
		answer := ""
		if string(cmd) == "SI" {
			s.asked++
			answer = s.answer
		} else if len(cmd) > 0 {
			answer = "ES" // MT-SICS: syntax error, command not understood
		}
		s.mu.Unlock()
		if answer != "" {
			if _, err := s.master.WriteString(answer + "\r\n"); err != nil {
				return
			}
		}
	}
}
