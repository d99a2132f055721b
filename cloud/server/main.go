// Package server wires the cloud: store, issuer key and API keys, embedded
// broker (or an external one), ingest, HTTP API and metrics. Main has the
// shape of wtf's: ParseFlags, Run (which returns once everything listens,
// so that tests run a whole cloud in-process on port 0), Close.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/broker"
	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/cloud/ingest"
	"github.com/comptoir/comptoir/cloud/pgstore"
	"github.com/comptoir/comptoir/cloud/webhookhttp"
	"github.com/comptoir/comptoir/edge"
)

// Main is the cloud service.
type Main struct {
	Config Config
	Logger *slog.Logger
	// WebhookBackoff, when set, replaces the webhooks' retry schedule
	// (cloud.Backoff): tests make it short.
	WebhookBackoff func(n int) time.Duration

	log            *slog.Logger
	store          cloud.Store
	trust          *cloud.Trust
	merchants      *cloud.Merchants
	sealer         *cloud.Sealer // nil without --kek-file
	broker         *broker.Broker
	ingest         *ingest.Ingest
	http           *httpapi.Server
	registry       *prometheus.Registry
	metrics        *ingest.Metrics
	mqttURL        string
	ingestURL      string // the broker as the cloud's own clients reach it
	httpURL        string
	demo           DemoKeys
	ingestCreds    [2]string
	closing        atomic.Bool
	dispatch       *dispatchLoop // webhooks.go
	webhookMetrics *webhookhttp.Metrics
	pprof          *http.Server // pprof.go
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.Default()}
}

// Run starts the store, the broker, the ingest and the HTTP API, and
// returns once they all listen. It does not block: call Close to stop. On
// error, what was started is closed again.
func (m *Main) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	m.log = m.Logger.With("component", "cloud")
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if m.sealer, err = m.openKEK(); err != nil {
		return err
	}
	m.trust = &cloud.Trust{Store: m.store}
	m.merchants = &cloud.Merchants{Store: m.store, Trust: m.trust, Sealer: m.sealer}
	if err := m.adoptLegacy(ctx); err != nil {
		return err
	}
	if err := m.setupKeys(ctx); err != nil {
		return err
	}
	if err := m.sealKeys(ctx); err != nil {
		return err
	}
	if err := m.trust.Refresh(ctx); err != nil {
		return err
	}

	m.registry = prometheus.NewRegistry()
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpapi.NewFleetCollector(m.store, m.log),
		webhookhttp.NewBacklogCollector(m.store, m.log),
		httpapi.NewStuckCollector(m.store, m.Config.StuckAfter, time.Now, m.log),
		httpapi.BuildInfo(m.Config.Version),
	)
	m.metrics = ingest.NewMetrics(m.registry)
	m.webhookMetrics = webhookhttp.NewMetrics(m.registry)

	if err := m.openBroker(); err != nil {
		return err
	}
	if err := m.openIngest(ctx); err != nil {
		return err
	}
	if m.broker != nil {
		// The ingest's client has its queue: terminals may come.
		if err := m.broker.AdmitTerminals(); err != nil {
			return err
		}
	}
	if err := m.openHTTP(); err != nil {
		return err
	}
	if err := m.openPprof(); err != nil {
		return err
	}
	m.startDispatcher()
	return nil
}

func (m *Main) openStore(ctx context.Context) error {
	switch m.Config.Store {
	case "postgres":
		s, err := pgstore.OpenWith(ctx, m.Config.PGDSN, pgstore.Options{NoInsight: m.Config.BenchNoInsight})
		if err != nil {
			return fmt.Errorf("%w (check --pg)", err)
		}
		m.store = s
		return nil
	default:
		s, err := badgerstore.OpenWith(m.Config.path(storeDir), badgerstore.Options{NoInsight: m.Config.BenchNoInsight})
		if err != nil {
			return err
		}
		m.store = s
		return nil
	}
}

func (m *Main) openBroker() error {
	user, pass := m.Config.BrokerUser, m.Config.BrokerPass
	if m.Config.BrokerURL != "" {
		m.mqttURL, m.ingestURL = m.Config.BrokerURL, m.Config.BrokerURL
	} else {
		// The embedded broker starts with no terminal connected: the
		// registry is told so, then kept right by disconnections.
		if err := m.markAllOffline(); err != nil {
			return err
		}
		m.broker = broker.New(broker.StorePasswords(m.store))
		m.broker.Addr = m.Config.MQTTListen
		m.broker.Logger = m.Logger
		m.broker.OnTerminalDisconnect = m.terminalDisconnected
		m.broker.TerminalQueue = m.Config.MQTTTerminalQueue
		m.broker.AcceptRate = m.Config.MQTTAcceptRate
		m.broker.Metrics = broker.NewMetrics(m.registry)
		if m.Config.MQTTTLSCert != "" {
			cfg, err := serverTLS(m.Config.MQTTTLSCert, m.Config.MQTTTLSKey, m.Config.MQTTClientCA, m.log)
			if err != nil {
				return fmt.Errorf("%w (check --mqtt-tls-cert, --mqtt-tls-key, --mqtt-client-ca)", err)
			}
			keys, err := loadTicketKeys(m.Config.path(ticketKeysFile))
			if err != nil {
				return err
			}
			withTicketKeys(cfg, keys)
			m.broker.TLS = cfg
		}
		if err := m.broker.Open(); err != nil {
			return withFlag(err, "--mqtt-listen")
		}
		m.mqttURL = m.broker.URL()
		m.ingestURL = m.broker.InternalURL()
		user, pass = m.broker.InternalCredentials()
	}
	m.ingestCreds = [2]string{user, pass}
	return nil
}

func (m *Main) openIngest(ctx context.Context) error {
	m.ingest = ingest.New(m.store, m.metrics, ingest.Config{
		BrokerURL: m.ingestURL, Username: m.ingestCreds[0], Password: m.ingestCreds[1],
		Shared: true, Logger: m.Logger,
		DeadLetters: cloud.DeadLetterLimits{PerTerminal: m.Config.DeadLettersPerTerminal, MaxAge: m.Config.DeadLetterMaxAge},
	})
	if err := m.ingest.SetTrust(m.trust.List().MarshalJWKS()); err != nil {
		return err
	}
	m.trust.Publish = m.ingest.SetTrust
	if err := m.ingest.Open(ctx); err != nil {
		if m.Config.BrokerURL != "" {
			return fmt.Errorf("%w (check --broker, --broker-user, --broker-pass)", err)
		}
		return err
	}
	return nil
}

func (m *Main) openHTTP() error {
	s := httpapi.NewServer()
	s.Store = m.store
	s.Trust = m.trust
	s.Merchants = m.merchants
	s.Issuer = &cloud.Issuer{Store: m.store, Trust: m.trust, Sealer: m.sealer}
	s.Partners = &cloud.Partners{Store: m.store}
	s.Webhooks = &cloud.Webhooks{Store: m.store, AllowPrivate: m.Config.WebhookAllowPrivate}
	s.Reports = &cloud.Reports{Store: m.store}
	s.Stuck = &cloud.Stuck{Store: m.store}
	s.Statements = &cloud.Statements{Store: m.store, RateCents: m.Config.RelayRateCents}
	zone, err := cloud.LoadTimeZone(m.Config.TimeZone)
	if err != nil {
		return fmt.Errorf("--time-zone: %w", err)
	}
	s.Tracker = &cloud.Tracker{Store: m.store, Zone: zone}
	s.MQTTURL = m.mqttURL
	if m.Config.MQTTPublicURL != "" {
		s.MQTTURL = m.Config.MQTTPublicURL
	}
	s.Commands = m.ingest
	if m.Config.BrokerDynsec {
		s.BrokerAccounts = m.ingest
	} else if m.broker != nil {
		s.BrokerAccounts = m.broker
	}
	s.Gatherer = m.registry
	s.Logger = m.Logger
	s.Healthy = func() error {
		if !m.ingest.Connected() {
			return errors.New("ingest not connected to the MQTT broker")
		}
		return nil
	}
	m.http = s
	if m.Config.HTTPTLSCert != "" {
		cfg, err := serverTLS(m.Config.HTTPTLSCert, m.Config.HTTPTLSKey, "", m.log)
		if err != nil {
			return fmt.Errorf("%w (check --http-tls-cert, --http-tls-key)", err)
		}
		s.TLS = cfg
	}
	if err := s.Open(m.Config.HTTPAddr); err != nil {
		return withFlag(err, "--http")
	}
	m.httpURL = s.URL()
	return nil
}

// markAllOffline records every terminal as offline. A store syncs each
// update (Badger: one WAL sync a transaction); updates made at once share
// their syncs, so a restart under 19,000 terminals marked online does not
// take a minute before the cloud listens.
func (m *Main) markAllOffline() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ts, err := m.store.Terminals(ctx)
	if err != nil {
		return err
	}
	online := make(chan string)
	errs := make(chan error, offlineWorkers)
	var wg sync.WaitGroup
	for range offlineWorkers {
		wg.Go(func() {
			for id := range online {
				if err := m.store.UpdateTerminalStatus(ctx, id, cloud.StatusUpdate{Online: false}); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
feed:
	for _, t := range ts {
		if !t.Online {
			continue
		}
		select {
		case online <- t.ID:
		case <-ctx.Done():
			break feed
		}
	}
	close(online)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("mark terminals offline: %w", err)
	default:
		return ctx.Err()
	}
}

// offlineWorkers is how many terminals markAllOffline updates at once.
const offlineWorkers = 64

// terminalDisconnected records that a terminal left the embedded broker.
func (m *Main) terminalDisconnected(tid string) {
	if m.closing.Load() {
		return // every terminal is marked offline at the next start
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.store.UpdateTerminalStatus(ctx, tid, cloud.StatusUpdate{Online: false}); err != nil && edge.ErrorCode(err) != edge.ENOTFOUND {
		m.log.Error("mark terminal offline", "terminal", tid, "err", err)
	}
}

// withFlag adds to an address-in-use error the flag that picks another.
func withFlag(err error, flag string) error {
	if strings.Contains(err.Error(), "already in use") {
		return fmt.Errorf("%w; choose another with %s ADDR", err, flag)
	}
	return err
}

// HTTPURL returns the HTTP API's base URL, with the port actually bound.
func (m *Main) HTTPURL() string { return m.httpURL }

// MQTTURL returns the broker's URL (tcp://host:port), with the port
// actually bound when the broker is embedded.
func (m *Main) MQTTURL() string { return m.mqttURL }

// Demo returns the demo API keys (with Config.Demo).
func (m *Main) Demo() (issuer, operator, partner string) {
	return m.demo.IssuerKey, m.demo.OperatorKey, m.demo.PartnerKey
}

// Store returns the cloud's store, for tests and tools.
func (m *Main) Store() cloud.Store { return m.store }

// Trust returns the network's trust list.
func (m *Main) Trust() *cloud.Trust { return m.trust }

// Close stops the HTTP API, the ingest, the broker and the store, in that
// order.
func (m *Main) Close() error {
	m.closing.Store(true)
	m.stopDispatcher()
	var errs []error
	if m.pprof != nil {
		errs = append(errs, m.pprof.Close())
		m.pprof = nil
	}
	if m.http != nil {
		errs = append(errs, m.http.Close())
		m.http = nil
	}
	if m.ingest != nil {
		errs = append(errs, m.ingest.Close())
		m.ingest = nil
	}
	if m.broker != nil {
		errs = append(errs, m.broker.Close())
		m.broker = nil
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
		m.store = nil
	}
	return errors.Join(errs...)
}
