package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/comptoir/comptoir/edge/journal"
)

// The journal's encryption key (journal.Config.EncryptionKey) comes from,
// in this order:
//
//  1. the systemd credential journal-key ($CREDENTIALS_DIRECTORY/journal-key),
//     which the packaged unit loads with LoadCredentialEncrypted= from a file
//     that the package's postinst sealed with systemd-creds (with the TPM
//     where the terminal has one, else the host's credential secret), so that
//     the key is never on disk in clear;
//  2. the file named by journal_key_file in the config (or --key-file of the
//     staff command);
//  3. DATA_DIR/journal.key, the development key that --demo creates.
//
// With none of them the journal stays in clear and the agent says so.
const (
	journalKeyCredential = "journal-key"
	demoKeyFile          = "journal.key"
)

// keySource says where a key comes from, for the log; never the key.
type keySource struct {
	key  []byte
	from string
}

// journalKey finds the journal's key (see above). With createDemo, a new
// random key is written to DATA_DIR/journal.key (0600) when no other is
// found. keyFile "-" reads the key from stdin.
func journalKey(dataDir, keyFile string, createDemo bool, stdin io.Reader) (keySource, error) {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		path := filepath.Join(dir, journalKeyCredential)
		if _, err := os.Stat(path); err == nil {
			key, err := readKeyFile(path, false)
			return keySource{key, "systemd credential " + journalKeyCredential}, err
		}
	}
	if keyFile == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 1024))
		if err != nil {
			return keySource{}, fmt.Errorf("journal key from standard input: %w", err)
		}
		key, err := parseKey(b)
		if err != nil {
			return keySource{}, fmt.Errorf("journal key from standard input: %w", err)
		}
		return keySource{key, "standard input"}, nil
	}
	if keyFile != "" {
		key, err := readKeyFile(keyFile, true)
		return keySource{key, keyFile}, err
	}
	demo := filepath.Join(dataDir, demoKeyFile)
	if _, err := os.Stat(demo); err == nil {
		key, err := readKeyFile(demo, true)
		return keySource{key, demo}, err
	}
	if !createDemo {
		return keySource{}, nil
	}
	key := make([]byte, journal.KeySize)
	if _, err := rand.Read(key); err != nil {
		return keySource{}, fmt.Errorf("journal key: %w", err)
	}
	if err := writeKeyFile(demo, key); err != nil {
		return keySource{}, fmt.Errorf("journal key: %w", err)
	}
	return keySource{key, demo + " (created for --demo)"}, nil
}

// readKeyFile reads a key file; with private, it refuses a file that
// others than its owner may read, as ssh does with private keys.
func readKeyFile(path string, private bool) ([]byte, error) {
	if private {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("journal key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("journal key %s: readable by others (mode %04o): chmod 600 it", path, fi.Mode().Perm())
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal key: %w", err)
	}
	key, err := parseKey(b)
	if err != nil {
		return nil, fmt.Errorf("journal key %s: %w", path, err)
	}
	return key, nil
}

// parseKey takes 64 hexadecimal digits (spaces and a newline around them
// allowed) or exactly 32 raw bytes.
func parseKey(b []byte) ([]byte, error) {
	if t := bytes.TrimSpace(b); len(t) == 2*journal.KeySize {
		if key, err := hex.DecodeString(string(t)); err == nil {
			return key, nil
		}
	}
	if len(b) == journal.KeySize {
		return b, nil
	}
	return nil, errors.New("want 64 hexadecimal digits (head -c 32 /dev/urandom | xxd -p -c 64) or 32 raw bytes")
}

// writeKeyFile writes key in hexadecimal to path (0600) and makes it
// durable before the journal is encrypted with it: a key lost to a power
// cut would lose the journal.
func writeKeyFile(path string, key []byte) error {
	return writePrivate(path, []byte(hex.EncodeToString(key)+"\n"))
}
