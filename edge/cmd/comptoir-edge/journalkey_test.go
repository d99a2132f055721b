package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
	"github.com/comptoir/comptoir/scanner/token"
)

func TestJournalKeySources(t *testing.T) {
	keyA := bytes.Repeat([]byte{0xa1}, journal.KeySize)
	keyB := bytes.Repeat([]byte{0xb2}, journal.KeySize)
	hexKey := func(k []byte) string { return hex.EncodeToString(k) + "\n" }
	write := func(t *testing.T, dir, name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		// setup returns the key file to give (may be "").
		setup   func(t *testing.T, data, creds string) string
		creds   bool // CREDENTIALS_DIRECTORY set
		demo    bool
		stdin   string
		want    []byte
		wantErr string
	}{
		{name: "none: the journal stays plain", setup: func(*testing.T, string, string) string { return "" }},
		{name: "systemd credential wins over the key file", creds: true, want: keyA, setup: func(t *testing.T, data, creds string) string {
			write(t, creds, journalKeyCredential, hexKey(keyA), 0o400)
			return write(t, data, "other.key", hexKey(keyB), 0o600)
		}},
		{name: "credential directory without ours: the key file", creds: true, want: keyB, setup: func(t *testing.T, data, creds string) string {
			return write(t, data, "other.key", hexKey(keyB), 0o600)
		}},
		{name: "raw 32 bytes", want: keyB, setup: func(t *testing.T, data, _ string) string {
			return write(t, data, "raw.key", string(keyB), 0o600)
		}},
		{name: "readable by others is refused", wantErr: "readable by others", setup: func(t *testing.T, data, _ string) string {
			return write(t, data, "open.key", hexKey(keyB), 0o644)
		}},
		{name: "short key is refused", wantErr: "64 hexadecimal digits", setup: func(t *testing.T, data, _ string) string {
			return write(t, data, "short.key", hexKey(keyB[:16]), 0o600)
		}},
		{name: "missing key file is an error", wantErr: "no such file", setup: func(_ *testing.T, data, _ string) string {
			return filepath.Join(data, "absent.key")
		}},
		{name: "standard input", stdin: hexKey(keyA), want: keyA, setup: func(*testing.T, string, string) string { return "-" }},
		{name: "the demo key found without --demo", want: keyA, setup: func(t *testing.T, data, _ string) string {
			write(t, data, demoKeyFile, hexKey(keyA), 0o600)
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, creds := t.TempDir(), t.TempDir()
			if tt.creds {
				t.Setenv("CREDENTIALS_DIRECTORY", creds)
			} else {
				t.Setenv("CREDENTIALS_DIRECTORY", "")
			}
			file := tt.setup(t, data, creds)
			got, err := journalKey(data, file, tt.demo, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.key, tt.want) {
				t.Errorf("key from %q: got %x, want %x", got.from, got.key, tt.want)
			}
		})
	}
}

func TestDemoKeyCreatedOnce(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	data := filepath.Join(t.TempDir(), "edge")
	first, err := journalKey(data, "", true, nil)
	if err != nil || len(first.key) != journal.KeySize {
		t.Fatalf("demo key: %x, %v", first.key, err)
	}
	fi, err := os.Stat(filepath.Join(data, demoKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo key file: %v, %v", fi, err)
	}
	again, err := journalKey(data, "", true, nil)
	if err != nil || !bytes.Equal(again.key, first.key) {
		t.Errorf("second start: %x, %v; want the first key", again.key, err)
	}
}

// TestStolenDataDirShowsNoSecrets takes deposits and adds staff through
// the kiosk's API, stops the terminal, and reads every file of its data
// directory as a thief of the disk would, without the key (the demo key
// file aside): no tracking number, item name, warehouse address, staff
// name or PIN hash is in clear. The printer spool, which holds what was
// printed, is the control: the trackings are found there.
func TestStolenDataDirShowsNoSecrets(t *testing.T) {
	ct := newCounterTerminal(t, "t-stolen")
	dir := ct.m.Config.DataDir
	var secrets []string
	for i := range 20 {
		trk := s10(4242000 + i)
		item := fmt.Sprintf("Cardigan mohair prune %02d", i)
		code := signRA(t, ct.issuer, trk, func(ra *edge.ReturnAuthorisation) {
			ra.Items = []edge.Item{{SKU: "SKU-9", Name: item, Qty: 1}}
			ra.Dest.Street = "12 impasse des Grèbes"
		})
		ct.deposit(t, code)
		secrets = append(secrets, trk, item)
	}
	secrets = append(secrets, "12 impasse des Grèbes", "Ysolde Kervarec")
	if code := ct.manager.do("POST", "/api/staff", map[string]string{"name": "Ysolde Kervarec", "role": "clerk", "pin": "8642"}, nil); code != http.StatusCreated {
		t.Fatalf("add staff: %d", code)
	}
	staff, err := ct.m.journal.ListStaff(context.Background())
	if err != nil || len(staff) != 3 {
		t.Fatalf("staff: %d, %v", len(staff), err)
	}
	for _, s := range staff {
		secrets = append(secrets, s.PINHash)
	}
	if err := ct.m.Close(); err != nil {
		t.Fatal(err)
	}

	spooled := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == demoKeyFile {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for _, s := range secrets {
			if !bytes.Contains(b, []byte(s)) {
				continue
			}
			if strings.HasPrefix(rel, "spool"+string(filepath.Separator)) {
				spooled++
				continue
			}
			t.Errorf("%s: %q in clear", rel, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if spooled == 0 {
		t.Error("control: nothing found in the printer spool either: the search sees nothing")
	}
}

// TestStaffCommandNeedsTheKey: the staff command opens an encrypted
// journal with the demo key it finds, refuses it with advice when the key
// is elsewhere, and opens it with --key-file.
func TestStaffCommandNeedsTheKey(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-staff-key", token.NewTrustList())
	m, _ := startTerminal(t, dir)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"staff", "list", "--data", dir}, &out, &out); err != nil || !strings.Contains(out.String(), "Démo Clerc") {
		t.Fatalf("staff list with the demo key: %v\n%s", err, out.String())
	}
	moved := filepath.Join(t.TempDir(), "journal.key")
	if err := os.Rename(filepath.Join(dir, demoKeyFile), moved); err != nil {
		t.Fatal(err)
	}
	err := run(ctx, []string{"staff", "list", "--data", dir}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--key-file") {
		t.Fatalf("staff list without the key: %v, want advice on --key-file", err)
	}
	out.Reset()
	if err := run(ctx, []string{"staff", "list", "--data", dir, "--key-file", moved}, &out, &out); err != nil || !strings.Contains(out.String(), "Démo Gérant") {
		t.Fatalf("staff list --key-file: %v\n%s", err, out.String())
	}
}

// TestJournalEncryptedMetric: 1 for a terminal with a key (--demo's), 0 for
// one that found none and runs in clear.
func TestJournalEncryptedMetric(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	for _, encrypted := range []bool{true, false} {
		t.Run(fmt.Sprint("encrypted=", encrypted), func(t *testing.T) {
			dir := t.TempDir()
			offlineTerminal(t, dir, "term-metric", token.NewTrustList())
			if !encrypted {
				plainDemoStaff(t, dir, "term-metric")
			}
			m, _ := startTerminal(t, dir, func(c *Config) { c.Demo = encrypted })
			want := 0.0
			if encrypted {
				want = 1
			}
			if got := metricValue(t, m.URL(), "comptoir_edge_journal_encrypted"); got != want {
				t.Errorf("comptoir_edge_journal_encrypted %v, want %v", got, want)
			}
		})
	}
}
