package server

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ticketServer returns the TLS configuration of a cloud that starts on
// dir's certificate and ticket secret, its clock at now.
func ticketServer(tb testing.TB, dir string, now time.Time) *tls.Config {
	tb.Helper()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if _, err := os.Stat(cert); err != nil {
		writeSelfSigned(tb, cert, key, 1)
	}
	cfg, err := serverTLS(cert, key, "", slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := loadTicketKeys(filepath.Join(dir, ticketKeysFile))
	if err != nil {
		tb.Fatal(err)
	}
	keys.now = func() time.Time { return now }
	withTicketKeys(cfg, keys)
	return cfg
}

// ticketClient trusts the certificate of dir and keeps one session.
func ticketClient(tb testing.TB, dir string) *tls.Config {
	tb.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, "c.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	// The test certificate names no host: it is checked against the pool
	// by hand, as a real verification costs; ServerName is the session
	// cache's key.
	return &tls.Config{ServerName: "cloud", ClientSessionCache: tls.NewLRUClientSessionCache(1), InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.DidResume {
				return nil
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool})
			return err
		}}
}

// handshake connects client to server over loopback TCP (net.Pipe has no
// buffer: both ends flush at once in TLS 1.3), reads one byte (so the
// client takes the server's session ticket) and reports whether the
// session was resumed.
func handshake(tb testing.TB, server, client *tls.Config) bool {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer sc.Close()
		s := tls.Server(sc, server)
		if err := s.Handshake(); err != nil {
			errc <- err
			return
		}
		_, err = s.Write([]byte{1})
		errc <- err
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer cc.Close()
	c := tls.Client(cc, client)
	if err := c.Handshake(); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		tb.Fatal(err)
	}
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
	return c.ConnectionState().DidResume
}

// TestTicketKeysSurviveRestart: a terminal resumes its TLS session with a
// restarted cloud (the same data directory) on the day and the day after
// its ticket, not later, nor with a cloud whose secret is new.
func TestTicketKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		restart time.Time
		newKey  bool
		resumed bool
	}{
		{"same day", day.Add(time.Minute), false, true},
		{"next day", day.Add(2 * time.Hour), false, true},
		{"two days on", day.Add(26 * time.Hour), false, false},
		{"secret removed", day.Add(time.Minute), true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first := ticketServer(t, dir, day)
			client := ticketClient(t, dir)
			if handshake(t, first, client) {
				t.Fatal("first handshake resumed")
			}
			if tt.newKey {
				os.Remove(filepath.Join(dir, ticketKeysFile))
			}
			if got := handshake(t, ticketServer(t, dir, tt.restart), client); got != tt.resumed {
				t.Errorf("after a restart at %s: resumed %v, want %v", tt.restart, got, tt.resumed)
			}
		})
	}
}

// BenchmarkHandshake: a full TLS handshake with the cloud against a
// resumed one, both ends in this process (the cloud's certificate is
// ECDSA P-256, the key exchange X25519MLKEM768 in both).
func BenchmarkHandshake(b *testing.B) {
	dir := b.TempDir()
	server := ticketServer(b, dir, time.Now())
	for _, resume := range []bool{false, true} {
		name := "full"
		if resume {
			name = "resumed"
		}
		b.Run(name, func(b *testing.B) {
			client := ticketClient(b, dir)
			if !resume {
				client.ClientSessionCache = nil
			} else {
				handshake(b, server, client)
			}
			for b.Loop() {
				if handshake(b, server, client) != resume {
					b.Fatalf("resumed is not %v", resume)
				}
			}
		})
	}
}
