package uplink_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"io"
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

// TestTLSSmallRecords: past crypto/tls's 128 KiB of boost, a terminal's
// batches still go in records of at most uplink.MaxRecord bytes (plus the
// record's own overhead), so that the cloud keeps a small read buffer a
// connection. A proxy between the uplink and the broker reads the records'
// headers of what the terminal sends.
func TestTLSSmallRecords(t *testing.T) {
	b := startTLSBroker(t)
	rp := newRecordProxy(t, b.secure.Address())
	tid := uniqueTID("tlsrec")
	cl := newCloud(t, b.plain.Address(), tid)
	out := newOutbox(tid, 3000)
	cfg := b.config(tid)
	cfg.BrokerURL = "mqtts://" + rp.ln.Addr().String()
	startUplink(t, cfg, out)
	waitFor(t, "drained over TLS", func() bool { return out.left() == 0 })
	cl.checkAll(t, 3000)
	sent, largest := rp.stats()
	if sent < 512<<10 {
		t.Fatalf("the terminal sent %d bytes, want over 512 KiB (past crypto/tls's boost to 16 KiB records)", sent)
	}
	// A record's overhead: TLS 1.3's content type and 16-byte tag, or
	// TLS 1.2's explicit nonce and tag.
	if largest > uplink.MaxRecord+64 {
		t.Fatalf("largest record sent %d bytes, want at most %d", largest, uplink.MaxRecord+64)
	}
	t.Logf("%d bytes sent, largest record %d bytes", sent, largest)
}

// recordProxy forwards TCP to a TLS listener and reads the headers of the
// records the client sends.
type recordProxy struct {
	ln            net.Listener
	sent, largest atomic.Int64
}

func newRecordProxy(t *testing.T, target string) *recordProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			t.Cleanup(func() { in.Close(); out.Close() })
			go func() { io.Copy(in, out); in.Close() }()
			go func() { p.records(in, out); out.Close() }()
		}
	}()
	return p
}

// records copies in to out a record at a time (a 5-byte header, its
// length in the last two).
func (p *recordProxy) records(in io.Reader, out io.Writer) {
	buf := make([]byte, 5+1<<16)
	for {
		if _, err := io.ReadFull(in, buf[:5]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(buf[3:5]))
		if _, err := io.ReadFull(in, buf[5:5+n]); err != nil {
			return
		}
		p.sent.Add(int64(5 + n))
		if int64(n) > p.largest.Load() {
			p.largest.Store(int64(n))
		}
		if _, err := out.Write(buf[:5+n]); err != nil {
			return
		}
	}
}

func (p *recordProxy) stats() (sent, largest int64) { return p.sent.Load(), p.largest.Load() }
