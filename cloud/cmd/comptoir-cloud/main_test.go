package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "a command is required"},
		{[]string{"loadgen", "--terminals", "10"}, "--broker URL"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--store", "mysql"}, "--store must be badger or postgres"},
		{[]string{"serve", "--broker", "tcp://h:1", "--mqtt-listen", "127.0.0.1:1"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// serve --help describes every flag of serve, --broker-dynsec included.
func TestServeHelp(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"serve", "--data", "x", "--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve --help: %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, f := range []string{"data", "http", "mqtt-listen", "broker", "broker-user", "broker-pass", "broker-dynsec",
		"mqtt-public-url", "store", "pg", "demo", "issuer-id"} {
		if !strings.Contains(help, "  -"+f+" ") && !strings.Contains(help, "  -"+f+"\n") {
			t.Errorf("serve --help lacks -%s:\n%s", f, help)
		}
	}
	if !strings.Contains(help, "dynamic security") || !strings.Contains(help, "(default \"badger\")") {
		t.Errorf("serve --help says too little:\n%s", help)
	}
	// The environment's secrets are defaults of their flags: never shown.
	t.Setenv("COMPTOIR_BROKER_PASS", "s3cret-pass")
	t.Setenv("COMPTOIR_PG", "postgres://u:s3cret-pg@h/db")
	out.Reset()
	run([]string{"serve", "-h"}, &out)
	if strings.Contains(out.String(), "s3cret") {
		t.Errorf("serve -h shows a secret of the environment:\n%s", out.String())
	}
	out.Reset()
	run([]string{"--help"}, &out)
	if !strings.Contains(out.String(), "[--broker-dynsec]") || !strings.Contains(out.String(), "comptoir-cloud version") {
		t.Errorf("usage lacks --broker-dynsec or version:\n%s", out.String())
	}
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"version"}, &out); err != nil || out.String() != Version+"\n" {
		t.Fatalf("version: %q, %v; want %q", out.String(), err, Version)
	}
}
