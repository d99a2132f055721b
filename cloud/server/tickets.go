package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// ticketKeysFile, in the data directory, holds the secret the embedded
// broker's session-ticket keys are derived from.
const ticketKeysFile = "mqtt-tls-tickets.key"

// ticketKeys are the session-ticket keys of a TLS listener, derived from a
// secret kept in the data directory, one key a day (UTC): a restarted
// cloud decrypts the tickets it gave out before, so a fleet reconnecting
// after a restart resumes its sessions instead of making full handshakes
// (Go makes new random keys at each start otherwise). Tickets of today and
// yesterday are accepted, new ones are sealed with today's key, and a key
// older than that is gone from memory.
type ticketKeys struct {
	secret []byte
	now    func() time.Time

	mu  sync.Mutex
	day int64 // the day the keys set were derived for
}

// loadTicketKeys reads the secret in file, creating it (32 random bytes,
// mode 0600) when absent.
func loadTicketKeys(file string) (*ticketKeys, error) {
	secret, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		secret = make([]byte, 32)
		rand.Read(secret)
		if err := os.WriteFile(file, secret, 0o600); err != nil {
			return nil, fmt.Errorf("tls: session ticket secret: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("tls: session ticket secret: %w", err)
	}
	if len(secret) < 32 {
		return nil, fmt.Errorf("tls: session ticket secret %s: %d bytes, want 32 (remove it to make a new one)", file, len(secret))
	}
	return &ticketKeys{secret: secret, now: time.Now}, nil
}

// key returns the ticket key of a day.
func (k *ticketKeys) key(day int64) [32]byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("comptoir tls session ticket key\x00"))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(day)))
	return [32]byte(m.Sum(nil))
}

// install sets cfg's keys for today and yesterday when the day has
// changed since it last did; it is cheap otherwise, and is called at
// each handshake (tls.Config.GetConfigForClient).
func (k *ticketKeys) install(cfg *tls.Config) {
	day := k.now().UTC().Unix() / 86400
	k.mu.Lock()
	defer k.mu.Unlock()
	if day == k.day {
		return
	}
	k.day = day
	cfg.SetSessionTicketKeys([][32]byte{k.key(day), k.key(day - 1)})
}

// withTicketKeys makes cfg seal its session tickets with k's keys.
func withTicketKeys(cfg *tls.Config, k *ticketKeys) {
	k.install(cfg)
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		k.install(cfg)
		return nil, nil
	}
}
