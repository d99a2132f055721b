package mosquitto

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
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/sync/wire"
)

// broker is a running mosquitto with the shipped configuration.
type broker struct {
	cloudAddr, termAddr string
	tls                 *tls.Config
}

// startMosquitto runs mosquitto -c with mosquitto.conf and acl, their
// ports and paths moved to free loopback ports and a temp dir, with users
// comptoir-cloud, term-a and term-b (password "pw-" + user).
func startMosquitto(t *testing.T) broker {
	t.Helper()
	bin := testenv.Command(t, "mosquitto", "mosquitto")
	passwd := testenv.Command(t, "mosquitto_passwd", "mosquitto")
	dir := t.TempDir()
	for i, user := range []string{"comptoir-cloud", "term-a", "term-b"} {
		args := []string{"-b", filepath.Join(dir, "passwd"), user, "pw-" + user}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command(passwd, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	pool := writeCert(t, dir)
	b := broker{cloudAddr: freeAddr(t), termAddr: freeAddr(t), tls: &tls.Config{RootCAs: pool}}
	conf, err := os.ReadFile("mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	acl, err := os.ReadFile("acl")
	if err != nil {
		t.Fatal(err)
	}
	_, cport, _ := net.SplitHostPort(b.cloudAddr)
	_, tport, _ := net.SplitHostPort(b.termAddr)
	text := strings.NewReplacer(
		"/etc/mosquitto/comptoir/", dir+"/",
		"/var/lib/mosquitto/", dir+"/",
		"listener 1883 ", "listener "+cport+" ",
		"listener 8883 ", "listener "+tport+" ",
	).Replace(string(conf))
	if !strings.Contains(text, "listener "+cport) || !strings.Contains(text, "listener "+tport) {
		t.Fatalf("mosquitto.conf: listeners 1883 and 8883 not found:\n%s", conf)
	}
	if os.Geteuid() == 0 {
		// Started as root, mosquitto drops to user mosquitto, who may not
		// read the test's temp dir.
		text = "user root\n" + text
	}
	os.WriteFile(filepath.Join(dir, "acl"), acl, 0o600)
	os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(text), 0o600)
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "mosquitto.conf"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("mosquitto:\n%s", out)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !testenv.Reachable(b.cloudAddr) || !testenv.Reachable(b.termAddr) {
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not listen within 10 s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return b
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeCert writes a self-signed server.crt and server.key for 127.0.0.1
// into dir and returns a pool that trusts it.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "comptoir-test-broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "server.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func connect(t *testing.T, url, clientID, user, pass string, tc *tls.Config) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).SetUsername(user).SetPassword(pass).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).SetCleanSession(true)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("connect %s: timed out", user)
	}
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(0) })
	}
	return c, tok.Error()
}

func mustConnect(t *testing.T, url, clientID, user, pass string, tc *tls.Config) paho.Client {
	t.Helper()
	c, err := connect(t, url, clientID, user, pass, tc)
	if err != nil {
		t.Fatalf("connect %s: %v", user, err)
	}
	return c
}

// subscribeCode returns the broker's SUBACK code for filter.
func subscribeCode(t *testing.T, c paho.Client, filter string, h paho.MessageHandler) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, h)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return tok.(*paho.SubscribeToken).Result()[filter]
}

func publish(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// TestMosquittoACL runs the shipped configuration: logins, the cloud's
// shared subscription, and a terminal held to its own topics.
func TestMosquittoACL(t *testing.T) {
	b := startMosquitto(t)
	cloudURL, termURL := "tcp://"+b.cloudAddr, "ssl://"+b.termAddr

	t.Run("logins", func(t *testing.T) {
		tests := []struct {
			name, url, user, pass string
			ok                    bool
		}{
			{"cloud", cloudURL, "comptoir-cloud", "pw-comptoir-cloud", true},
			{"terminal over TLS", termURL, "term-a", "pw-term-a", true},
			{"wrong password", termURL, "term-a", "pw-term-b", false},
			{"anonymous terminal", termURL, "", "", false},
			{"anonymous on the cloud's listener", cloudURL, "", "", false},
			{"unknown user", termURL, "term-z", "pw-term-z", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var tc *tls.Config
				if tt.url == termURL {
					tc = b.tls
				}
				_, err := connect(t, tt.url, "login-"+tt.user, tt.user, tt.pass, tc)
				if got := err == nil; got != tt.ok {
					t.Errorf("connected = %v (err %v), want %v", got, err, tt.ok)
				}
			})
		}
	})

	cloud := mustConnect(t, cloudURL, "cloud-1", "comptoir-cloud", "pw-comptoir-cloud", nil)
	events := make(chan string, 16)
	if code := subscribeCode(t, cloud, wire.SharedEventsFilter, func(_ paho.Client, m paho.Message) { events <- m.Topic() }); code >= 0x80 {
		t.Fatalf("cloud's shared subscription refused: code %#x", code)
	}
	if code := subscribeCode(t, cloud, wire.StatusFilter, func(paho.Client, paho.Message) {}); code >= 0x80 {
		t.Fatalf("cloud's status subscription refused: code %#x", code)
	}

	// The client id asked for is another terminal's: the broker replaces
	// it with the username, so term-b's session is not taken over.
	termB := mustConnect(t, termURL, "term-b", "term-b", "pw-term-b", b.tls)
	term := mustConnect(t, termURL, "term-b", "term-a", "pw-term-a", b.tls)
	acks := make(chan string, 16)
	// Mosquitto grants every subscription of an MQTT 3.1.1 client and
	// applies the ACL when it delivers: term-a subscribes to other
	// terminals' topics and to everything, and must still receive only
	// what is its own.
	for _, filter := range []string{
		wire.TerminalTopic("term-a", wire.KindAcks), wire.TerminalTopic("term-a", wire.KindCommands), wire.TrustTopic,
		wire.TerminalTopic("term-b", wire.KindAcks), wire.TerminalTopic("term-b", wire.KindCommands),
		wire.TerminalTopic("+", wire.KindAcks), wire.EventsFilter, "#",
	} {
		subscribeCode(t, term, filter, func(_ paho.Client, m paho.Message) { acks <- m.Topic() })
	}

	t.Run("publish", func(t *testing.T) {
		// Mosquitto drops a refused publish silently (MQTT 3.1.1 has no
		// way to say no): the refused one goes first, and the allowed one
		// after it on the same connection arrives alone.
		publish(t, term, wire.TerminalTopic("term-b", wire.KindEvents), `{"v":1}`)
		publish(t, term, wire.TerminalTopic("term-a", wire.KindAcks), `{"v":1}`)
		publish(t, term, wire.TerminalTopic("term-a", wire.KindEvents), `{"v":1}`)
		select {
		case got := <-events:
			if want := wire.TerminalTopic("term-a", wire.KindEvents); got != want {
				t.Errorf("cloud received %s first, want %s", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("cloud never received term-a's own events")
		}
	})

	t.Run("no takeover", func(t *testing.T) {
		publish(t, termB, wire.TerminalTopic("term-b", wire.KindEvents), `{"v":1}`)
		select {
		case got := <-events:
			if want := wire.TerminalTopic("term-b", wire.KindEvents); got != want {
				t.Errorf("cloud received %s, want %s", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("term-b's connection was taken over: its events never arrived")
		}
	})

	t.Run("read", func(t *testing.T) {
		publish(t, cloud, wire.TerminalTopic("term-b", wire.KindAcks), `{"v":1,"ranges":[[1,1]]}`)
		publish(t, cloud, wire.TerminalTopic("term-b", wire.KindCommands), `{"v":1}`)
		publish(t, cloud, wire.TerminalTopic("term-a", wire.KindAcks), `{"v":1,"ranges":[[1,1]]}`)
		publish(t, cloud, wire.TerminalTopic("term-a", wire.KindCommands), `{"v":1}`)
		// Overlapping subscriptions may deliver a message more than
		// once; what matters is which topics arrive.
		own := map[string]bool{wire.TerminalTopic("term-a", wire.KindAcks): false, wire.TerminalTopic("term-a", wire.KindCommands): false}
		for seen := 0; seen < len(own); {
			select {
			case topic := <-acks:
				if tid, _, _ := wire.ParseTerminalTopic(topic); tid != "term-a" {
					t.Errorf("term-a received %s", topic)
				}
				if done, ok := own[topic]; ok && !done {
					own[topic] = true
					seen++
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("term-a did not receive all of its own messages: %v", own)
			}
		}
	})
}
