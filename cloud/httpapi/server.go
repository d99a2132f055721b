// Package httpapi is the cloud's HTTP API (Fiber): return authorisations and
// their QR codes, parcel timelines, the fleet registry and enrolment,
// receipt verification, the trust list, a tracking page for customers,
// health and Prometheus metrics. See DESIGN.md, "Cloud HTTP API".
//
// API keys travel as "Authorization: Bearer KEY" and have a role (issuer,
// operator, partner). Issuer and partner keys belong to a merchant and see
// only its data (another's answers 404); operator keys see the network.
// Public, with no key: GET /v1/returns/{id}/qr.png with the signed link of
// its return (it expires with the return), POST /v1/receipts/verify (it
// tells whether a token is genuine, and the status of its parcel to whoever
// holds the receipt), GET /v1/trust (public keys), GET /track/{tracking},
// GET /v1/openapi.json (this API's description), /healthz and /metrics.
//
// Handlers translate: the use cases are in package cloud (Issuer,
// Merchants, Partners, Webhooks, Feed, Trust, Fleet, Receipts, Reports).
package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

// BodyLimit bounds request bodies.
const BodyLimit = 64 << 10

// Commander sends commands to terminals over MQTT.
type Commander interface {
	PublishCommand(ctx context.Context, tid string, cmd wire.Command) error
}

// Server is the cloud's HTTP server.
type Server struct {
	Store cloud.Store
	// Issuer, Merchants and Partners are the use cases of returns,
	// merchants and their keys, and partners' events.
	Issuer    *cloud.Issuer
	Merchants *cloud.Merchants
	Partners  *cloud.Partners
	// Webhooks is the use case of webhook subscriptions.
	Webhooks *cloud.Webhooks
	// Reports answers the returns insight's reports, Stuck its lists of
	// stuck parcels.
	Reports *cloud.Reports
	Stuck   *cloud.Stuck
	// Statements makes relay points' monthly statements.
	Statements *cloud.Statements
	// Tracker makes the public /track pages; nil is one on Store in the
	// default time zone.
	Tracker *cloud.Tracker
	// Trust is the JWK set of trusted issuer keys and revocations, served
	// at /v1/trust and handed to terminals at enrolment.
	Trust *cloud.Trust
	// MQTTURL is the broker address given to terminals at enrolment.
	MQTTURL string
	// Commands sends terminal commands; nil answers UNAVAILABLE.
	Commands Commander
	// BrokerAccounts, when set, opens and closes terminals' accounts on
	// the broker: the embedded one (which checks passwords against the
	// store, and drops the connection of a decommissioned terminal) or
	// Mosquitto's dynamic security. Nil when the operator keeps the
	// accounts of an external broker.
	BrokerAccounts cloud.BrokerAccounts
	// Gatherer is served at /metrics.
	Gatherer prometheus.Gatherer
	// TLS, when set, makes the server HTTPS.
	TLS *tls.Config
	// Healthy reports problems for /healthz (nil: always healthy).
	Healthy func() error
	Logger  *slog.Logger
	Now     func() time.Time
	// TrackLimit is how many /track pages one client address may load a
	// minute (default 60); the page is public, so this bounds scraping of
	// tracking numbers.
	TrackLimit int

	app        *fiber.App
	trackOnce  sync.Once
	trackLimit fiber.Handler
	ln         net.Listener
}

func (s *Server) log() *slog.Logger { return s.Logger.With("component", "httpapi") }

// NewServer returns a Server with its routes; set its fields, then Open.
func NewServer() *Server {
	s := &Server{Logger: slog.Default(), Now: time.Now, Gatherer: prometheus.NewRegistry()}
	s.app = fiber.New(fiber.Config{
		BodyLimit:             BodyLimit,
		DisableStartupMessage: true,
		Immutable:             true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		ErrorHandler:          s.handleError,
	})
	s.routes()
	return s
}

func (s *Server) routes() {
	a := s.app
	a.Get("/healthz", s.healthz)
	a.Get("/metrics", s.metrics())
	a.Get("/track/:tracking", s.limitTrack, s.trackPage)
	a.Get("/reports", s.reportPage)
	a.Post("/reports/session", s.postReportSession)
	a.Post("/reports/session/end", s.deleteReportSession)

	a.Get("/v1/openapi.json", s.openAPI)
	v1 := a.Group("/v1")
	v1.Post("/merchants", s.auth(cloud.RoleOperator), s.createMerchant)
	v1.Get("/merchants", s.auth(cloud.RoleOperator, cloud.RoleIssuer), s.listMerchants)
	v1.Get("/merchants/:id/keys", s.auth(cloud.RoleOperator, cloud.RoleIssuer), s.merchantKeys)
	v1.Post("/merchants/:id/keys", s.auth(cloud.RoleOperator, cloud.RoleIssuer), s.registerKey)
	v1.Post("/merchants/:id/keys/rotate", s.auth(cloud.RoleOperator, cloud.RoleIssuer), s.rotateKey)
	v1.Get("/conflicts", s.auth(cloud.RoleOperator), s.conflicts)
	v1.Post("/returns", s.auth(cloud.RoleIssuer), s.createReturn)
	v1.Get("/returns/:id/qr.png", s.returnQR)
	v1.Get("/returns/:id", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.getReturn)
	v1.Post("/returns/:id/revoke", s.auth(cloud.RoleIssuer), s.revokeReturn)
	v1.Get("/parcels/stuck", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.stuckParcels)
	v1.Get("/parcels/:tracking/timeline", s.auth(), s.timeline)
	v1.Post("/events", s.auth(cloud.RolePartner), s.postEvents)
	v1.Get("/events", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.listEvents)
	v1.Get("/epcis/events", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.epcisEvents)
	v1.Post("/webhooks", s.auth(cloud.RoleIssuer), s.createWebhook)
	v1.Get("/webhooks", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.listWebhooks)
	v1.Delete("/webhooks/:id", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.deleteWebhook)
	v1.Post("/webhooks/:id/rotate-secret", s.auth(cloud.RoleIssuer), s.rotateWebhookSecret)
	v1.Post("/webhooks/:id/replay", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.replayWebhook)
	v1.Post("/webhooks/:id/enable", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.enableWebhook)
	v1.Post("/terminals", s.auth(cloud.RoleOperator), s.enrolTerminal)
	v1.Get("/terminals", s.auth(cloud.RoleOperator), s.listTerminals)
	v1.Get("/terminals/:tid", s.auth(cloud.RoleOperator), s.getTerminal)
	v1.Post("/terminals/:tid/commands", s.auth(cloud.RoleOperator), s.postCommand)
	v1.Post("/terminals/:tid/decommission", s.auth(cloud.RoleOperator), s.decommissionTerminal)
	v1.Get("/dead-letters", s.auth(cloud.RoleOperator), s.deadLetters)
	v1.Get("/reports/returns", s.auth(cloud.RoleIssuer, cloud.RoleOperator), s.returnsReport)
	v1.Get("/reports/refusals", s.auth(cloud.RoleOperator), s.refusalsReport)
	v1.Get("/relay-points/:tid/statement", s.auth(cloud.RoleOperator), s.relayStatement)
	v1.Post("/receipts/verify", s.verifyReceipt)
	v1.Get("/trust", s.trust)
	a.Use(func(c *fiber.Ctx) error { return errNotFound })
}

// limitTrack applies TrackLimit, per client address, with fiber's limiter
// (sliding window); over it the answer is 429 RATE_LIMITED.
func (s *Server) limitTrack(c *fiber.Ctx) error {
	s.trackOnce.Do(func() {
		max := s.TrackLimit
		if max <= 0 {
			max = 60
		}
		s.trackLimit = limiter.New(limiter.Config{
			Max:               max,
			Expiration:        time.Minute,
			LimiterMiddleware: limiter.SlidingWindow{},
			LimitReached: func(c *fiber.Ctx) error {
				return edge.Errorf(edge.ERATELIMITED, "Too many tracking pages loaded from this address; try again in a minute.")
			},
		})
	})
	return s.trackLimit(c)
}

// App returns the Fiber app, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Open listens on addr and serves in the background. An address in use is
// reported naming it; the caller's message names the flag that changes it.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("httpapi: HTTP address %s is already in use: %w", addr, err)
		}
		return fmt.Errorf("httpapi: listen on %s: %w", addr, err)
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	s.ln = ln
	go func() {
		if err := s.app.Listener(ln); err != nil {
			s.log().Error("http server", "err", err)
		}
	}()
	s.log().Info("http api listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns http://host:port (https:// with TLS) of the server.
func (s *Server) URL() string {
	scheme := "http://"
	if s.TLS != nil {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		return scheme + s.Addr()
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return scheme + net.JoinHostPort(host, port)
}

// Close stops the server, letting requests in flight finish for a few
// seconds.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	if err := s.app.ShutdownWithTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("httpapi: close: %w", err)
	}
	return nil
}

func (s *Server) healthz(c *fiber.Ctx) error {
	if s.Healthy != nil {
		if err := s.Healthy(); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": err.Error()})
		}
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) trust(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/jwk-set+json")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(s.Trust.List().MarshalJWKS())
}
