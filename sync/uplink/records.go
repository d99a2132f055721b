package uplink

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"
)

// MaxRecord bounds what the uplink hands crypto/tls in one write, so that
// no TLS record it sends holds more than 4 KiB. crypto/tls sends records
// of up to 16 KiB once a connection has carried 128 KiB (its dynamic
// record sizing), and the receiver keeps a buffer as large as the largest
// record it read for as long as the connection lives: a terminal's day of
// batches would cost the cloud's broker about 17 KB a connection for good,
// instead of about 4.5 KB.
const MaxRecord = 4 << 10

// dial opens the uplink's connections as paho would (its dialer, with a
// proxy from the environment; for TLS, the certificate's name from the
// broker's host when the config names none), with TLS writes cut to
// MaxRecord.
func dial(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	raw, err := proxy.FromEnvironmentUsing(o.Dialer).Dial("tcp", uri.Host)
	if err != nil || uri.Scheme == "tcp" || uri.Scheme == "mqtt" {
		return raw, err
	}
	cfg := o.TLSConfig
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = uri.Hostname()
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.ConnectTimeout)
	defer cancel()
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return smallRecords{conn}, nil
}

// smallRecords cuts every write into pieces of at most MaxRecord bytes,
// which crypto/tls sends as records of their own.
type smallRecords struct{ *tls.Conn }

func (c smallRecords) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		w, err := c.Conn.Write(p[:min(len(p), MaxRecord)])
		n += w
		if err != nil {
			return n, err
		}
		p = p[w:]
	}
	return n, nil
}
