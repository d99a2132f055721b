package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeSelfSigned writes a self-signed certificate of serial to cert and
// key.
func writeSelfSigned(tb testing.TB, cert, key string, serial int64) {
	tb.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "cloud"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// TestCertFilesReload: a renewed certificate is served without a restart;
// a broken renewal keeps the last good one.
func TestCertFilesReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeSelfSigned(t, cert, key, 1)
	cf, err := newCertFiles(cert, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		cf.checked = time.Time{} // as if checkEvery had passed
		c, err := cf.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := x509.ParseCertificate(c.Certificate[0])
		return x.SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}
	writeSelfSigned(t, cert, key, 2)
	if got := serial(); got != 2 {
		t.Fatalf("after renewal: serial %d, want 2", got)
	}
	os.WriteFile(cert, []byte("half-written"), 0o600)
	if got := serial(); got != 2 {
		t.Fatalf("after a broken renewal: serial %d, want the last good one (2)", got)
	}
	if _, err := newCertFiles(cert, key, nil); err == nil {
		t.Fatal("broken files at start: no error")
	}
}
