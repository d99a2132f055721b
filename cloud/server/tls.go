package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certFiles serves a certificate from PEM files and loads them again when
// they change (looked at no more than once every checkEvery), so that a
// renewed certificate takes effect without a restart. A renewal that does
// not load (a half-written file) keeps the last good one, and is logged.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu      sync.Mutex
	current *tls.Certificate
	stamp   string // the files' sizes and modification times
	checked time.Time
}

const checkEvery = 10 * time.Second

func newCertFiles(cert, key string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{cert: cert, key: key, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certFiles) filesStamp() string {
	s := ""
	for _, f := range []string{c.cert, c.key} {
		if st, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d@%d;", st.Size(), st.ModTime().UnixNano())
		}
	}
	return s
}

func (c *certFiles) load() error {
	stamp := c.filesStamp()
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("tls: certificate %s and key %s: %w", c.cert, c.key, err)
	}
	c.current, c.stamp = &pair, stamp
	return nil
}

// get is tls.Config.GetCertificate.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= checkEvery {
		c.checked = now
		if c.filesStamp() != c.stamp {
			if err := c.load(); err != nil {
				c.log.Error("tls certificate not reloaded; the previous one is served", "err", err)
			} else {
				c.log.Info("tls certificate reloaded", "cert", c.cert)
			}
		}
	}
	return c.current, nil
}

// serverTLS returns the TLS configuration of a listener from PEM files;
// with clientCA, clients need a certificate of that CA.
func serverTLS(cert, key, clientCA string, log *slog.Logger) (*tls.Config, error) {
	cf, err := newCertFiles(cert, key, log)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cf.get}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: client CA %s holds no PEM certificate", clientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
