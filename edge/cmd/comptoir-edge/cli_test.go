package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args     []string
		wantJSON bool
		wantRest []string
	}{
		{[]string{"--json", "a.png", "b.png"}, true, []string{"a.png", "b.png"}},
		{[]string{"a.png", "--json", "b.png"}, true, []string{"a.png", "b.png"}},
		{[]string{"a.png", "b.png", "--json"}, true, []string{"a.png", "b.png"}},
		{[]string{"a.png", "--", "--json"}, false, []string{"a.png", "--json"}},
		{[]string{"-", "a.png"}, false, []string{"-", "a.png"}},
		{nil, false, nil},
	}
	for _, tt := range tests {
		fs := newFlagSet("scan", io.Discard)
		asJSON := fs.Bool("json", false, "")
		rest, err := parseArgs(fs, tt.args)
		if err != nil || *asJSON != tt.wantJSON || !slices.Equal(rest, tt.wantRest) {
			t.Errorf("parseArgs(%q) = %q, json=%v, %v; want %q, json=%v", tt.args, rest, *asJSON, err, tt.wantRest, tt.wantJSON)
		}
	}
}

// An unknown flag is printed once, with the usage, by the flag package;
// main must not print it again.
func TestUnknownFlagPrintedOnce(t *testing.T) {
	var stderr strings.Builder
	fs := newFlagSet("scan", &stderr)
	fs.Bool("json", false, "one JSON line per file")
	_, err := parseArgs(fs, []string{"a.png", "--jsno"})
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want a usageError", err)
	}
	if n := strings.Count(stderr.String(), "flag provided but not defined: -jsno"); n != 1 {
		t.Errorf("error printed %d times:\n%s", n, stderr.String())
	}
	if !strings.Contains(stderr.String(), "one JSON line per file") {
		t.Errorf("usage not printed:\n%s", stderr.String())
	}
	if _, err := parseArgs(newFlagSet("scan", io.Discard), []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

func TestStaffHelpAndAdvice(t *testing.T) {
	ctx := context.Background()
	for _, help := range []string{"--help", "-h", "help"} {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"staff", help}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "comptoir-edge staff add --data DIR") {
			t.Errorf("staff %s: %v\n%s", help, err, stdout.String())
		}
	}
	// Without --data, the default directory holds no terminal: say which
	// directory to give.
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	err := run(ctx, []string{"staff", "list"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "give --data DIR, the data directory of comptoir-edge run (.run/edge under make run") {
		t.Errorf("staff list without --data: %v", err)
	}
	err = run(ctx, []string{"staff", "list", "--data", t.TempDir()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "enrol it first") {
		t.Errorf("staff list --data EMPTY: %v", err)
	}
}
