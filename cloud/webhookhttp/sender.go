// Package webhookhttp delivers webhooks over HTTP as Standard Webhooks
// (standardwebhooks.com) has them, signed with its Go library: the
// cloud.Sender of the Dispatcher. Its dialer refuses private, loopback
// and link-local addresses after DNS resolution (unless AllowPrivate), it
// follows no redirects, and it bounds the connection and the whole
// request in time, so that a receiver can neither point the cloud at its
// own network nor hold a delivery loop.
package webhookhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/comptoir/comptoir/cloud"
)

// Defaults of Config.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
)

// Config configures a Sender.
type Config struct {
	// AllowPrivate lets deliveries reach private, loopback and link-local
	// addresses (--webhook-allow-private).
	AllowPrivate bool
	// ConnectTimeout bounds the connection, Timeout the whole request
	// (answer included).
	ConnectTimeout, Timeout time.Duration
}

// Sender posts deliveries.
type Sender struct {
	client *http.Client
}

var _ cloud.Sender = (*Sender)(nil)

// ErrPrivateTarget is the error of a delivery whose host resolved to an
// address that is not public.
var ErrPrivateTarget = errors.New("webhookhttp: the target resolves to a private, loopback or link-local address")

// New returns a Sender.
func New(cfg Config) *Sender {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	dialer := &net.Dialer{
		Timeout: cfg.ConnectTimeout,
		// Control runs on the address actually dialled, after DNS: a name
		// that resolves to a private address at delivery time (DNS
		// rebinding) is refused as its address would be.
		Control: func(network, address string, _ syscall.RawConn) error {
			if cfg.AllowPrivate {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !cloud.PublicAddr(ap.Addr()) {
				return ErrPrivateTarget
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // the check above must see the receiver's address
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Sender{client: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirect is an answer, not 2xx: it is not followed, so that it
		// cannot lead a delivery to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Send implements cloud.Sender.
func (s *Sender) Send(ctx context.Context, url string, d cloud.Delivery) (int, error) {
	sig, err := Sign(d)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("webhookhttp: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "comptoir-cloud webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(d.Timestamp.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrPrivateTarget) {
			return 0, ErrPrivateTarget
		}
		return 0, fmt.Errorf("webhookhttp: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	return resp.StatusCode, nil
}

// Sign returns the webhook-signature header of d: "v1,<signature>" for
// each of its secrets, separated by spaces.
func Sign(d cloud.Delivery) (string, error) {
	if len(d.Secrets) == 0 {
		return "", errors.New("webhookhttp: no secret to sign with")
	}
	sigs := make([]string, 0, len(d.Secrets))
	for _, secret := range d.Secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return "", fmt.Errorf("webhookhttp: secret: %w", err) // the error names no secret
		}
		sig, err := wh.Sign(d.ID, d.Timestamp, d.Body)
		if err != nil {
			return "", fmt.Errorf("webhookhttp: sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}
