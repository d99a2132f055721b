package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/wire"
)

// testCA is a certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(tb testing.TB) testCA {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "comptoir test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCA{cert, key, pool}
}

// issue returns a certificate of cn (for 127.0.0.1 when server) signed by
// ca, as a tls.Certificate and as PEM files in dir.
func (ca testCA) issue(tb testing.TB, dir, cn string, server bool) (tls.Certificate, string, string) {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	cf, kf := filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	if err := os.WriteFile(cf, certPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(kf, keyPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	return pair, cf, kf
}

// TestTLS runs the cloud with a TLS broker that needs client certificates
// and an HTTPS API: a terminal enrols over HTTPS and exchanges events over
// mqtts:// with a certificate naming it; without a certificate, with one
// naming another terminal, or in plain text, it cannot connect.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	_, srvCert, srvKey := ca.issue(t, dir, "cloud", true)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600)
	m := MustRun(t, t.TempDir(), "--mqtt-tls-cert", srvCert, "--mqtt-tls-key", srvKey, "--mqtt-client-ca", caFile,
		"--http-tls-cert", srvCert, "--http-tls-key", srvKey)
	if !strings.HasPrefix(m.HTTPURL(), "https://") || !strings.HasPrefix(m.MQTTURL(), "mqtts://") {
		t.Fatalf("urls %s %s, want https and mqtts", m.HTTPURL(), m.MQTTURL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	k, _ := token.GenerateKey("shop-tls")
	_, op, _ := m.Demo()
	body, _ := json.Marshal(map[string]string{"id": "shop-tls", "receipt_public_key": token.EncodePublicKey(k.Public())})
	req, _ := http.NewRequest("POST", m.HTTPURL()+"/v1/terminals", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+op)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("enrol over HTTPS: %v", err)
	}
	var e enrolment
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(e.MQTT.URL, "mqtts://") {
		t.Fatalf("enrol: %d %+v", resp.StatusCode, e)
	}
	mine, _, _ := ca.issue(t, dir, "shop-tls", false)
	other, _, _ := ca.issue(t, dir, "shop-other", false)
	connect := func(url string, certs []tls.Certificate) (paho.Client, error) {
		o := paho.NewClientOptions().AddBroker(url).SetClientID("shop-tls").SetUsername("shop-tls").
			SetPassword(e.MQTT.Password).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).
			SetTLSConfig(&tls.Config{RootCAs: ca.pool, Certificates: certs})
		c := paho.NewClient(o)
		tok := c.Connect()
		tok.WaitTimeout(10 * time.Second)
		return c, tok.Error()
	}
	for name, certs := range map[string][]tls.Certificate{"no certificate": nil, "another terminal's": {other}} {
		if c, err := connect(e.MQTT.URL, certs); err == nil {
			c.Disconnect(0)
			t.Errorf("%s: connected, want refused", name)
		}
	}
	if c, err := connect(strings.Replace(e.MQTT.URL, "mqtts://", "tcp://", 1), []tls.Certificate{mine}); err == nil {
		c.Disconnect(0)
		t.Error("plain text to the TLS listener: connected")
	}
	c, err := connect(e.MQTT.URL, []tls.Certificate{mine})
	if err != nil {
		t.Fatalf("its own certificate: %v", err)
	}
	defer c.Disconnect(0)
	acks := make(chan string, 1)
	wait(t, c.Subscribe(wire.TerminalTopic("shop-tls", wire.KindAcks), 1, func(_ paho.Client, msg paho.Message) { acks <- string(msg.Payload()) }))
	wait(t, c.Publish(wire.TerminalTopic("shop-tls", wire.KindEvents), 1, false, batch("shop-tls", op1("shop-tls"))))
	select {
	case a := <-acks:
		if !strings.Contains(a, "[[1,1]]") {
			t.Fatalf("ack = %s", a)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no ack over TLS: the ingest did not reach the broker's internal listener")
	}
}

func op1(tid string) edge.Operation { return op(tid, 1, edge.OpReturnRefused, "") }

// TestPlaintextBeyondLoopback: serve refuses to listen beyond loopback
// without TLS unless told so.
func TestPlaintextBeyondLoopback(t *testing.T) {
	for _, tt := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--http", "0.0.0.0:8080"}, false},
		{[]string{"--http", ":8080"}, false},
		{[]string{"--mqtt-listen", "0.0.0.0:1884"}, false},
		{[]string{"--http", "0.0.0.0:8080", "--insecure-plaintext"}, true},
		{[]string{"--http", "localhost:8080", "--mqtt-listen", "[::1]:1884"}, true},
		{[]string{"--mqtt-tls-cert", "c.pem"}, false},
	} {
		m := server.NewMain()
		err := m.ParseFlags(append([]string{"--data", t.TempDir()}, tt.args...))
		if (err == nil) != tt.ok {
			t.Errorf("serve %v: %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
}
