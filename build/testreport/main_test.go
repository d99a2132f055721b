package main

import (
	"bytes"
	"strings"
	"testing"
)

// A run of two packages as test2json gives it: a pass, a failure, two
// subtests skipped for the same reason and a package with no tests.
const run = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestOK"}
{"Action":"output","Package":"p/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"p/a","Test":"TestOK","Elapsed":0}
{"Action":"output","Package":"p/a","Test":"TestR/x","Output":"=== RUN   TestR/x\n"}
{"Action":"output","Package":"p/a","Test":"TestR/x","Output":"    r_test.go:12: skipped: zbarimg not found (Debian package zbar-tools)\n"}
{"Action":"output","Package":"p/a","Test":"TestR/x","Output":"--- SKIP: TestR/x (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestR/x","Elapsed":0}
{"Action":"output","Package":"p/a","Test":"TestR/y","Output":"    r_test.go:12: skipped: zbarimg not found (Debian package zbar-tools)\n"}
{"Action":"skip","Package":"p/a","Test":"TestR/y","Elapsed":0}
{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    bad_test.go:3: got 1, want 2\n"}
{"Action":"fail","Package":"p/a","Test":"TestBad","Elapsed":0}
{"Action":"output","Package":"p/a","Output":"FAIL\n"}
{"Action":"output","Package":"p/a","Output":"FAIL\tp/a\t0.500s\n"}
{"Action":"fail","Package":"p/a","Elapsed":0.5}
not json: a line printed by something else
{"Action":"skip","Package":"p/b","Elapsed":0}
`

func TestReport(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	r.read(strings.NewReader(run))
	r.summary()
	got := out.String()
	for _, want := range []string{
		"bad_test.go:3: got 1, want 2",
		"FAIL\tp/a\t0.500s",
		"not json: a line printed by something else",
		"?   \tp/b\t[no test files]",
		"1 tests passed, 1 failed, 2 skipped",
		"  p/a: TestR/x, TestR/y\n      skipped: zbarimg not found (Debian package zbar-tools)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "FAIL\tp/a"); n != 1 {
		t.Errorf("the package's FAIL line printed %d times:\n%s", n, got)
	}
	if !r.failed {
		t.Error("failed = false after a failed test")
	}
	if strings.Contains(got, "TestOK") {
		t.Errorf("a passing test's output is shown:\n%s", got)
	}
}
