// Command testreport runs `go test -json` and prints what plain `go test`
// prints (a line per package, the output of failed tests), then a summary of
// every skipped test and why, which plain `go test` hides unless -v. It is
// how `make test` runs the suite:
//
//	go run ./build/testreport -- go test -json -count=1 ./...
//
// Its exit status is the go command's (1 if that said nothing of a failure
// but a test failed).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testreport -- go test -json [flags] [packages]")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	// Ctrl-C reaches the go command too (same process group); the report
	// stops when its output ends.
	signal.Ignore(os.Interrupt)
	r := newReport(os.Stdout)
	r.read(stdout)
	werr := cmd.Wait()
	r.summary()
	code := 0
	if werr != nil {
		code = 1
		if ee, ok := werr.(*exec.ExitError); ok && ee.ExitCode() > 0 {
			code = ee.ExitCode()
		}
	} else if r.failed {
		code = 1
	}
	os.Exit(code)
}

// event is one line of test2json (go doc test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// skip is one skipped test and the lines it printed.
type skip struct {
	pkg, test string
	why       []string
}

// report accumulates the events of one run.
type report struct {
	w       io.Writer
	started time.Time
	output  map[string][]string // package + "\x00" + test: its output lines
	skips   []skip
	failed  bool
	counts  map[string]int // tests by action: pass, fail, skip
}

func newReport(w io.Writer) *report {
	return &report{w: w, started: time.Now(), output: map[string][]string{}, counts: map[string]int{}}
}

// read handles each line of the go command's output until it ends. Lines
// that are not JSON (a build error printed by an older go) pass through.
func (r *report) read(in io.Reader) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(r.w, sc.Text())
			continue
		}
		r.handle(e)
	}
}

func (r *report) handle(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.w, e.Output)
		return
	case "build-fail":
		r.failed = true
		return
	}
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "output":
		r.output[key] = append(r.output[key], e.Output)
	case "pass", "fail", "skip":
		out := r.output[key]
		delete(r.output, key)
		if e.Test == "" {
			r.endPackage(e, out)
			return
		}
		r.counts[e.Action]++
		switch e.Action {
		case "fail":
			r.failed = true
			fmt.Fprint(r.w, strings.Join(out, ""))
		case "skip":
			r.skips = append(r.skips, skip{pkg: e.Package, test: e.Test, why: reasons(out)})
		}
	}
}

// endPackage prints the package's line, as go test does, and what the
// package printed outside any test when it failed (a panic, TestMain).
func (r *report) endPackage(e event, out []string) {
	switch e.Action {
	case "fail":
		r.failed = true
		for _, l := range out {
			// go test's own summary lines: the one below replaces them.
			if t := strings.TrimSpace(l); t != "FAIL" && t != "PASS" && !strings.HasPrefix(l, "FAIL\t") && !strings.HasPrefix(l, "ok  \t") {
				fmt.Fprint(r.w, l)
			}
		}
		fmt.Fprintf(r.w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(r.w, "?   \t%s\t[no test files]\n", e.Package)
	default:
		line := fmt.Sprintf("ok  \t%s\t%.3fs", e.Package, e.Elapsed)
		for _, l := range out {
			if strings.Contains(l, "[no tests to run]") {
				line += " [no tests to run]"
			}
		}
		fmt.Fprintln(r.w, line)
	}
}

// reasons keeps the lines a skipped test printed, without go test's own
// === and --- lines and the file:line prefixes of t.Log.
func reasons(out []string) []string {
	var why []string
	for _, l := range out {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		if i := strings.Index(t, ".go:"); i > 0 && !strings.Contains(t[:i], " ") {
			if j := strings.Index(t[i:], ": "); j > 0 {
				t = t[i+j+2:]
			}
		}
		why = append(why, t)
	}
	return why
}

// summary prints the counts and every skipped test grouped by its reason.
func (r *report) summary() {
	fmt.Fprintf(r.w, "\n%d tests passed, %d failed, %d skipped in %s\n",
		r.counts["pass"], r.counts["fail"], r.counts["skip"], time.Since(r.started).Round(time.Second))
	if len(r.skips) == 0 {
		return
	}
	type group struct {
		pkg, why string
		tests    []string
	}
	var groups []*group
	for _, s := range r.skips {
		why := strings.Join(s.why, " ")
		if why == "" {
			why = "(no reason given)"
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.pkg == s.pkg && g.why == why })
		if i < 0 {
			groups = append(groups, &group{pkg: s.pkg, why: why})
			i = len(groups) - 1
		}
		groups[i].tests = append(groups[i].tests, s.test)
	}
	fmt.Fprintln(r.w, "skipped:")
	for _, g := range groups {
		tests := g.tests
		more := ""
		if len(tests) > 4 {
			more = fmt.Sprintf(" and %d more", len(tests)-4)
			tests = tests[:4]
		}
		fmt.Fprintf(r.w, "  %s: %s%s\n      %s\n", g.pkg, strings.Join(tests, ", "), more, g.why)
	}
}
