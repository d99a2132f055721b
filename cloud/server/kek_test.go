package server_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/scanner/token"
)

// runErr starts a cloud in dir with the extra flags and returns Run's
// error (nil: it ran, and is closed again).
func runErr(t *testing.T, dir string, extra ...string) error {
	t.Helper()
	m := server.NewMain()
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.ParseFlags(serveFlags(dir, extra...)); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	m.Close()
	return err
}

// TestSealedSigningKeys: a cloud started with --kek-file seals the signing
// keys stored before (and every key it makes after), so that the store
// holds no private half in the clear, and its codes still verify; started
// again without the file, or with another, it refuses to start rather
// than sign nothing at the first return.
func TestSealedSigningKeys(t *testing.T) {
	dir := t.TempDir()
	m := MustRun(t, dir)
	acme := createMerchant(t, m, "acme")
	before, err := m.Store().SigningKeys(context.Background(), cloud.Network)
	if err != nil || len(before) == 0 {
		t.Fatalf("keys = %+v, %v", before, err)
	}
	for _, k := range before {
		if k.Held() && cloud.Sealed(k.Private) {
			t.Fatalf("key %s sealed with no --kek-file", k.ID)
		}
	}
	m.Close()

	kek := filepath.Join(t.TempDir(), "kek")
	m = MustRun(t, dir, "--kek-file", kek)
	if fi, err := os.Stat(kek); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kek file: %v, %v; want created, mode 0600", fi, err)
	}
	bolt := createMerchant(t, m, "bolt")
	keys, err := m.Store().SigningKeys(context.Background(), cloud.Network)
	if err != nil || len(keys) != len(before)+1 {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	for _, k := range keys {
		if !k.Held() {
			continue
		}
		if !cloud.Sealed(k.Private) {
			t.Errorf("key %s of %s not sealed", k.ID, k.Merchant)
		}
		for _, b := range before {
			if b.Private != "" && strings.Contains(k.Private, b.Private) {
				t.Errorf("key %s: the stored half holds the clear seed", k.ID)
			}
		}
	}
	trust, err := cloud.TrustList(keys, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{acme, bolt} {
		st, r := createReturn(t, m, key, nil)
		if st != 201 {
			t.Fatalf("create return with a sealed key: %d", st)
		}
		if _, err := token.VerifyRA(trust, r.Token, time.Now()); err != nil {
			t.Errorf("code signed with a sealed key: %v", err)
		}
	}
	m.Close()

	if err := runErr(t, dir); err == nil || !strings.Contains(err.Error(), "--kek-file") {
		t.Errorf("start without the kek file: %v, want an error naming --kek-file", err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := runErr(t, dir, "--kek-file", other); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("start with another kek: %v, want an error", err)
	}
	if err := os.WriteFile(other, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runErr(t, dir, "--kek-file", other); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("start with a damaged kek file: %v, want an error", err)
	}
	if err := runErr(t, dir, "--kek-file", kek); err != nil {
		t.Errorf("start again with the kek: %v", err)
	}
}
