package uplink_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/sync/uplink"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestTLS drains over mqtts:// to a broker that asks for a client
// certificate signed by the test's CA; the cloud uses a plain listener of
// the same broker.
func TestTLS(t *testing.T) {
	b := startTLSBroker(t)
	tid := uniqueTID("tls")
	cl := newCloud(t, b.plain.Address(), tid)
	out := newOutbox(tid, 1000)
	startUplink(t, b.config(tid), out)
	waitFor(t, "drained over TLS", func() bool { return out.left() == 0 })
	cl.checkAll(t, 1000)
	out.checkAckedOnce(t)
}

// TestTLSResumes: after a lost connection the uplink resumes its TLS
// session (the broker's certificate not sent and checked again) rather
// than making a full handshake; without a session cache it never does.
func TestTLSResumes(t *testing.T) {
	b := startTLSBroker(t)
	tid := uniqueTID("tlsr")
	u := startUplink(t, b.config(tid), newOutbox(tid, 0))
	waitFor(t, "connected", u.Connected)
	for i := range 3 {
		// The broker drops the terminal: it reconnects on its own.
		cl, ok := b.srv.Clients.Get(tid)
		if !ok {
			t.Fatalf("round %d: %s not a client of the broker", i, tid)
		}
		cl.Stop(packets.ErrServerShuttingDown)
		waitFor(t, "a new connection", func() bool {
			c, ok := b.srv.Clients.Get(tid)
			return ok && c != cl && !c.Closed() && u.Connected()
		})
	}
	if full, resumed := b.full.Load(), b.resumed.Load(); full != 1 || resumed != 3 {
		t.Fatalf("%d full handshakes and %d resumed, want 1 and 3", full, resumed)
	}
}

// tlsBroker is a mochi broker with a plain listener for the cloud and a
// TLS one for terminals, which asks for a client certificate of the
// test's CA and counts full and resumed handshakes.
type tlsBroker struct {
	srv           *mochi.Server
	plain, secure *listeners.TCP
	dir           string
	full, resumed atomic.Int64
}

func startTLSBroker(t *testing.T) *tlsBroker {
	dir := t.TempDir()
	ca, caKey := makeCert(t, dir, "ca", nil, nil)
	makeCert(t, dir, "server", ca, caKey)
	makeCert(t, dir, "client", ca, caKey)

	serverCert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	b := &tlsBroker{dir: dir, srv: mochi.New(&mochi.Options{Logger: quiet(t)})}
	if err := b.srv.AddHook(new(allowHook), nil); err != nil {
		t.Fatal(err)
	}
	b.plain = listeners.NewTCP(listeners.Config{ID: "plain", Address: "127.0.0.1:0"})
	b.secure = listeners.NewTCP(listeners.Config{ID: "tls", Address: "127.0.0.1:0", TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.DidResume {
				b.resumed.Add(1)
			} else {
				b.full.Add(1)
			}
			return nil
		},
	}})
	for _, l := range []listeners.Listener{b.plain, b.secure} {
		if err := b.srv.AddListener(l); err != nil {
			t.Fatal(err)
		}
	}
	go b.srv.Serve()
	t.Cleanup(func() { stopBroker(b.srv, "plain", "tls") })
	return b
}

// config is an uplink's configuration for terminal tid over TLS.
func (b *tlsBroker) config(tid string) uplink.Config {
	return uplink.Config{
		BrokerURL: "mqtts://" + b.secure.Address(), Terminal: tid, AckTimeout: time.Hour,
		CAFile: filepath.Join(b.dir, "ca.pem"), CertFile: filepath.Join(b.dir, "client.pem"), KeyFile: filepath.Join(b.dir, "client.key"),
	}
}

// makeCert writes name.pem and name.key in dir: a CA when parent is nil,
// else a certificate for 127.0.0.1 signed by parent.
func makeCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(name+".pem", "CERTIFICATE", der)
	write(name+".key", "EC PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
