package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud/server"
)

// TestKeysCommand adds a key, sees it listed (without the key), uses it,
// revokes it, and sees it refused.
func TestKeysCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := server.Keys(ctx, []string{"add", "--data", dir, "--role", "operator", "--name", "ops-team"}, &out); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	if len(key) < 40 {
		t.Fatalf("key = %q", key)
	}
	for _, bad := range [][]string{
		{"add", "--data", dir, "--role", "root", "--name", "x"},
		{"add", "--data", dir, "--role", "issuer"},
		{"revoke", "--data", dir, "nobody"},
		{"drop", "--data", dir},
	} {
		if err := server.Keys(ctx, bad, &out); err == nil {
			t.Errorf("keys %v: no error", bad)
		}
	}
	out.Reset()
	if err := server.Keys(ctx, []string{"list", "--data", dir}, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`operator +- +ops-team`).MatchString(out.String()) || strings.Contains(out.String(), key) {
		t.Fatalf("list = %q, want the key's role and name, never the key", out.String())
	}

	status := func() int {
		m := server.NewMain()
		m.Logger = slog.New(slog.DiscardHandler)
		if err := m.ParseFlags([]string{"--data", dir, "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		return call(t, "GET", m.HTTPURL()+"/v1/terminals", key, nil, nil)
	}
	if st := status(); st != 200 {
		t.Fatalf("GET /v1/terminals with the new key: %d", st)
	}
	out.Reset()
	if err := server.Keys(ctx, []string{"revoke", "--data", dir, "ops-team"}, &out); err != nil {
		t.Fatal(err)
	}
	if st := status(); st != 401 {
		t.Fatalf("GET /v1/terminals with the revoked key: %d, want 401", st)
	}
}
