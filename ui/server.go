package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// Config holds the settings of the HTTP server.
type Config struct {
	// Addr to listen on; 127.0.0.1:8081 by default. Port 0 picks a free one.
	Addr string
	// SessionIdle signs a clerk out after this long without a request.
	SessionIdle time.Duration
	// AllowedHosts are the Host names the kiosk answers besides its listen
	// address's, localhost, 127.0.0.1 and [::1] (DNS rebinding); others get
	// 421. Names only: any port is accepted.
	AllowedHosts []string
	// MaxImageBytes bounds the body of POST /api/scan/image.
	MaxImageBytes int
	// Location is the zone of the shopkeeper's days (history, summaries);
	// time.Local when nil.
	Location *time.Location
	Version  string
	Logger   *slog.Logger
}

const (
	cookieName   = "comptoir_session"
	maxJSONBytes = 64 << 10
)

// Server is the terminal's HTTP server.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	app      *fiber.App
	ln       net.Listener
	sessions *sessions
	hosts    hostNames
	receipts *recentReceipts
}

// New returns a server; Open starts it.
func New(cfg Config, deps Deps) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8081"
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 15 * time.Minute
	}
	if cfg.MaxImageBytes == 0 {
		cfg.MaxImageBytes = 16 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg: cfg, deps: deps, log: cfg.Logger.With("component", "ui"),
		sessions: newSessions(cfg.SessionIdle), receipts: newRecentReceipts(512),
		hosts: newHostNames(cfg.Addr, cfg.AllowedHosts),
	}
	s.app = fiber.New(fiber.Config{
		BodyLimit:         maxJSONBytes,
		StreamRequestBody: true, // see body.go
		// A multipart upload is read by its handler, within its limit.
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  2 * time.Minute,
		DisableStartupMessage:        true,
		ErrorHandler:                 func(c *fiber.Ctx, err error) error { return writeError(c, s.log, err) },
	})
	s.routes()
	return s
}

func (s *Server) routes() {
	app := s.app
	app.Use(s.checkHost, s.closeUnread, s.securityHeaders, s.crossOrigin, s.limitBody)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	app.Get("/readyz", s.readyz)
	if s.deps.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(s.deps.Metrics))
	}
	api := app.Group("/api")
	api.Post("/session", s.postSession)
	api.Use(s.requireSession)
	api.Get("/session", s.getSession)
	api.Delete("/session", s.deleteSession)
	api.Get("/session/lock", s.requireManager, s.getSignInLock)
	api.Post("/session/unlock", s.requireManager, s.postUnlock)
	api.Post("/scan", s.postScan)
	api.Post("/scan/image", s.postScanImage)
	api.Post("/deposits", s.postDeposit)
	api.Get("/scale", s.getScale)
	api.Get("/receipts/:id/qr.png", s.getReceiptQR)
	api.Get("/print-jobs/:id/data", s.getPrintJobData)
	api.Post("/print-jobs/:id/retry", s.postPrintRetry)
	api.Get("/print-jobs/:id/preview.png", s.getPrintJobPreview)
	api.Get("/print-jobs/:id/label.pdf", s.getPrintJobPDF)
	api.Get("/shelf", s.getShelf)
	api.Get("/operations", s.getOperations)
	api.Post("/instore-returns", s.postInstore)
	api.Post("/deposits/:id/cancel", s.postCancel)
	api.Post("/handovers", s.postHandover)
	api.Get("/summary", s.getSummary)
	api.Get("/statement", s.getStatement)
	api.Post("/days/:day/close", s.requireManager, s.postCloseDay)
	api.Get("/staff", s.requireManager, s.getStaff)
	api.Post("/staff", s.requireManager, s.postStaff)
	api.Post("/staff/:id/disable", s.requireManager, s.postStaffDisable)
	api.Get("/status", s.getStatus)
	api.Use(func(c *fiber.Ctx) error { return edge.Errorf(edge.ENOTFOUND, "No such API route.") })
	s.assets(app)
}

// Open listens on the configured address and serves in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ui: listen on %s (choose another with --http): %w", s.cfg.Addr, err)
	}
	s.ln = ln
	go func() {
		if err := s.app.Listener(ln); err != nil {
			s.log.Error("http server stopped", "error", err)
		}
	}()
	return nil
}

// URL returns the base URL the server listens on.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the server, letting requests in progress finish for a while.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	return s.app.ShutdownWithTimeout(5 * time.Second)
}

// Handler returns the fiber app, for tests that call it without a socket.
func (s *Server) Handler() *fiber.App { return s.app }

func (s *Server) readyz(c *fiber.Ctx) error {
	if s.deps.Ready != nil {
		if err := s.deps.Ready(); err != nil {
			return writeError(c, s.log, edge.Errorf(edge.EUNAVAILABLE, "Not ready: %v", err))
		}
	}
	return c.JSON(fiber.Map{"ready": true})
}

// securityHeaders keeps the kiosk from loading anything from outside the
// terminal and from being framed.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Cache-Control", "no-store")
	return c.Next()
}

// crossOrigin refuses state-changing cross-site requests the way Go's
// net/http.CrossOriginProtection does: Sec-Fetch-Site first, else Origin
// compared with the request's own host; requests with neither header (scripts,
// tests) pass.
func (s *Server) crossOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return c.Next()
	case "":
	default:
		return edge.Errorf(edge.EFORBIDDEN, "Cross-origin request refused.")
	}
	origin := c.Get("Origin")
	if origin == "" {
		return c.Next()
	}
	if u, err := url.Parse(origin); err == nil && u.Host == string(c.Request().Host()) {
		return c.Next()
	}
	return edge.Errorf(edge.EFORBIDDEN, "Cross-origin request refused.")
}

func (s *Server) requireSession(c *fiber.Ctx) error {
	sess, ok := s.sessions.get(c.Cookies(cookieName), !isPoll(c))
	if !ok {
		return edge.Errorf(edge.EUNAUTHORIZED, "Sign in with your PIN.")
	}
	c.Locals("session", sess)
	return c.Next()
}

// isPoll reports the kiosk's background reads, which are not activity.
func isPoll(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodGet && (c.Path() == "/api/status" || c.Path() == "/api/session" || c.Path() == "/api/scale")
}

func session(c *fiber.Ctx) Session {
	s, _ := c.Locals("session").(Session)
	return s
}

func ctxOf(c *fiber.Ctx) context.Context { return c.UserContext() }

// errBadJSON wraps a JSON decoding failure as INVALID.
func errBadJSON(err error) error {
	var e *edge.Error
	if errors.As(err, &e) {
		return err
	}
	return edge.Errorf(edge.EINVALID, "Malformed JSON: %v", err)
}
