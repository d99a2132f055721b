package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/broker"
)

// Config is the configuration of comptoir-cloud serve.
type Config struct {
	// DataDir holds the store, the issuer key and demo.json.
	DataDir string
	// HTTPAddr is the HTTP API's listen address.
	HTTPAddr string
	// MQTTListen is the embedded broker's listen address; unused when
	// BrokerURL names an external broker.
	MQTTListen string
	// BrokerURL, BrokerUser and BrokerPass reach an external broker
	// (Mosquitto, EMQX) instead of the embedded one.
	BrokerURL, BrokerUser, BrokerPass string
	// BrokerDynsec creates each enrolled terminal's account on the external
	// broker through Mosquitto's dynamic security plugin (BrokerUser must
	// be its admin); without it, accounts on an external broker are the
	// operator's job (docs/scaling.md).
	BrokerDynsec bool
	// MQTTPublicURL is the broker address given to terminals at enrolment;
	// by default the embedded broker's address or BrokerURL.
	MQTTPublicURL string
	// Store is "badger" (default) or "postgres", with PGDSN its connection
	// string (which may also come from COMPTOIR_PG, to keep a password out
	// of process listings).
	Store, PGDSN string
	// Demo creates demo API keys at first start and keeps them in
	// DataDir/demo.json.
	Demo bool
	// KEKFile holds the key-encryption key that seals merchants' signing
	// keys in the store (created at first start); empty stores them
	// unsealed.
	KEKFile string
	// IssuerID names the merchant that a first start without --demo
	// creates, and the one that the data of a cloud from before merchants
	// (its issuer.key, returns and keys) is given to: its codes carry this
	// "iss".
	IssuerID string
	// Version is reported by comptoir_build_info.
	Version string
	// DeadLettersPerTerminal and DeadLetterMaxAge bound the dead letters:
	// at most so many per terminal (the oldest dropped beyond), none older
	// (removed when the next dead letter arrives).
	DeadLettersPerTerminal int
	DeadLetterMaxAge       time.Duration
	// WebhookAllowPrivate lets webhooks target private, loopback and
	// link-local addresses (tests; a cloud and its merchants inside one
	// private network).
	WebhookAllowPrivate bool
	// WebhookPoll is how often the webhook dispatcher looks for new
	// events and subscriptions.
	WebhookPoll time.Duration
	// EventRetention is how long the outbox keeps an event that every
	// active webhook of its merchant has delivered: the reach of the
	// event feed and of webhook replays.
	EventRetention time.Duration
	// StuckAfter is how long a parcel may wait at a stage (on a shelf, or
	// handed over and not seen by the carrier) before
	// comptoir_cloud_parcels_stuck counts it.
	StuckAfter time.Duration
	// RelayRateCents is what a relay point is paid per parcel, in cents
	// of the network's currency: the rate of the monthly statements.
	RelayRateCents int64
	// TimeZone is the network's IANA time zone: the public tracking page
	// shows its times there.
	TimeZone string
	// MQTTTLSCert and MQTTTLSKey make the embedded broker's listener TLS
	// (PEM files, reloaded when they change); with MQTTClientCA, terminals
	// need a certificate of that CA whose common name is their id.
	MQTTTLSCert, MQTTTLSKey, MQTTClientCA string
	// HTTPTLSCert and HTTPTLSKey make the HTTP API HTTPS (PEM files,
	// reloaded when they change).
	HTTPTLSCert, HTTPTLSKey string
	// InsecurePlaintext lets the HTTP API or the embedded broker listen
	// beyond loopback without TLS (behind a proxy that terminates it).
	InsecurePlaintext bool
	// MQTTTerminalQueue is the most messages the embedded broker holds
	// for one terminal (broker.DefaultTerminalQueue).
	MQTTTerminalQueue int
	// MQTTAcceptRate is how many terminal connections a second the
	// embedded broker accepts (broker.DefaultAcceptRate; 0 for no bound):
	// in a reconnect storm the rest wait in the kernel's backlog or retry.
	MQTTAcceptRate float64
	// BenchNoInsight opens the store without the returns insight's keys
	// or facts (badgerstore.Options.NoInsight, pgstore.Options.NoInsight):
	// for benchmarks only, to
	// measure what the insight costs at ingest; reports, stuck lists and
	// statements then answer nothing true.
	BenchNoInsight bool
	// PprofAddr, when set, serves Go's profiles (net/http/pprof) on this
	// loopback address, apart from the API: heap and goroutine profiles
	// of a cloud under load.
	PprofAddr string
}

// DefaultConfig returns the defaults of comptoir-cloud serve.
func DefaultConfig() Config {
	return Config{
		DataDir:    "./data/cloud",
		HTTPAddr:   "127.0.0.1:8080",
		MQTTListen: broker.DefaultAddr,
		Store:      "badger",
		IssuerID:   "comptoir",
		Version:    "dev",

		DeadLettersPerTerminal: cloud.DefaultDeadLettersPerTerminal,
		DeadLetterMaxAge:       cloud.DefaultDeadLetterMaxAge,
		WebhookPoll:            time.Second,
		EventRetention:         cloud.DefaultRetention,
		StuckAfter:             cloud.DefaultStuckAfter,
		RelayRateCents:         cloud.DefaultRelayRateCents,
		TimeZone:               cloud.DefaultTimeZone,
		MQTTTerminalQueue:      broker.DefaultTerminalQueue,
		MQTTAcceptRate:         broker.DefaultAcceptRate,
	}
}

// ParseFlags parses the flags of "serve" (a leading "serve" is skipped) into
// m.Config. The broker's credentials may also come from the environment,
// COMPTOIR_BROKER_USER and COMPTOIR_BROKER_PASS, so that they stay out of
// process listings.
func (m *Main) ParseFlags(args []string) error {
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	c := &m.Config
	fs := c.flagSet()
	mqttSet := false
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("serve: %w", err)
	}
	fs.Visit(func(f *flag.Flag) { mqttSet = mqttSet || f.Name == "mqtt-listen" })
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if mqttSet && c.BrokerURL != "" {
		return fmt.Errorf("serve: --mqtt-listen and --broker exclude each other")
	}
	return c.Validate()
}

// flagSet returns the flags of serve, bound to c's fields, with c's
// values as their defaults; it prints nothing (see ServeUsage).
func (c *Config) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("comptoir-cloud serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DataDir, "data", c.DataDir, "`DIR` of the Badger store, the issuer key and demo.json")
	fs.StringVar(&c.HTTPAddr, "http", c.HTTPAddr, "listen `ADDR` of the HTTP API, /metrics and the /track pages")
	fs.StringVar(&c.MQTTListen, "mqtt-listen", c.MQTTListen, "listen `ADDR` of the embedded MQTT broker (not with --broker)")
	fs.StringVar(&c.BrokerURL, "broker", c.BrokerURL, "`URL` of an external MQTT broker (tcp://host:port, ssl://...) instead of the embedded one")
	fs.StringVar(&c.BrokerUser, "broker-user", envOr("COMPTOIR_BROKER_USER", c.BrokerUser), "`USER` name on the external broker (or $COMPTOIR_BROKER_USER)")
	fs.StringVar(&c.BrokerPass, "broker-pass", envOr("COMPTOIR_BROKER_PASS", c.BrokerPass), "`PASSWORD` on the external broker (better: $COMPTOIR_BROKER_PASS, kept out of process listings)")
	fs.BoolVar(&c.BrokerDynsec, "broker-dynsec", c.BrokerDynsec, "create each enrolled terminal's account on the external broker through Mosquitto's dynamic security plugin (--broker-user must be its admin; needs --broker)")
	fs.StringVar(&c.MQTTPublicURL, "mqtt-public-url", c.MQTTPublicURL, "broker `URL` given to terminals at enrolment (default: the embedded broker's address, or --broker)")
	fs.StringVar(&c.Store, "store", c.Store, "timeline `STORE`: badger or postgres")
	fs.StringVar(&c.PGDSN, "pg", envOr("COMPTOIR_PG", c.PGDSN), "PostgreSQL `DSN` with --store postgres (better: $COMPTOIR_PG, kept out of process listings)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "create demo API keys at first start and keep them in DIR/demo.json")
	fs.StringVar(&c.KEKFile, "kek-file", c.KEKFile, "`FILE` of the key-encryption key that seals merchants' signing keys in the store (created if absent; every instance needs the same; keep a copy apart from the store's backups)")
	fs.StringVar(&c.IssuerID, "issuer-id", c.IssuerID, "merchant `ID` of a first start without --demo, and of data from before merchants")
	fs.IntVar(&c.DeadLettersPerTerminal, "dead-letters-per-terminal", c.DeadLettersPerTerminal, "dead letters kept per terminal, the oldest dropped beyond")
	fs.DurationVar(&c.DeadLetterMaxAge, "dead-letter-max-age", c.DeadLetterMaxAge, "age beyond which dead letters are removed")
	fs.DurationVar(&c.StuckAfter, "stuck-after", c.StuckAfter, "wait at a stage after which comptoir_cloud_parcels_stuck counts a parcel (1m to 366 days)")
	fs.Int64Var(&c.RelayRateCents, "relay-rate-cents", c.RelayRateCents, "what a relay point is paid per parcel, in `CENTS` (monthly statements)")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "the network's IANA time `ZONE`, in which the /track pages show times")
	fs.StringVar(&c.MQTTTLSCert, "mqtt-tls-cert", c.MQTTTLSCert, "PEM certificate `FILE` of the embedded broker's TLS listener")
	fs.StringVar(&c.MQTTTLSKey, "mqtt-tls-key", c.MQTTTLSKey, "PEM key `FILE` of the embedded broker's TLS listener")
	fs.StringVar(&c.MQTTClientCA, "mqtt-client-ca", c.MQTTClientCA, "PEM CA `FILE` of terminals' client certificates (common name = terminal id)")
	fs.StringVar(&c.HTTPTLSCert, "http-tls-cert", c.HTTPTLSCert, "PEM certificate `FILE` of the HTTPS API")
	fs.StringVar(&c.HTTPTLSKey, "http-tls-key", c.HTTPTLSKey, "PEM key `FILE` of the HTTPS API")
	fs.IntVar(&c.MQTTTerminalQueue, "mqtt-terminal-queue", c.MQTTTerminalQueue, "messages the embedded broker holds for one terminal (mochi's default is 8192)")
	fs.Float64Var(&c.MQTTAcceptRate, "mqtt-accept-rate", c.MQTTAcceptRate, "terminal connections a second the embedded broker accepts, 0 for no bound")
	fs.StringVar(&c.PprofAddr, "pprof", c.PprofAddr, "loopback `ADDR` serving Go's profiles (/debug/pprof/), off by default")
	fs.BoolVar(&c.InsecurePlaintext, "insecure-plaintext", c.InsecurePlaintext, "listen beyond loopback without TLS (behind a TLS proxy)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", c.WebhookAllowPrivate, "let webhooks target private, loopback and link-local addresses (a receiver on this machine or network)")
	fs.DurationVar(&c.WebhookPoll, "webhook-poll", c.WebhookPoll, "how often webhook deliveries look for new events and subscriptions")
	fs.DurationVar(&c.EventRetention, "event-retention", c.EventRetention, "how long the event feed keeps an event every active webhook of its merchant has delivered (1h or more)")
	fs.BoolVar(&c.BenchNoInsight, "bench-no-insight", c.BenchNoInsight, "for benchmarks only: keep no report counters, facts, statements or refusals in the Badger store, no report facts or durations in PostgreSQL (reports then answer nothing true; the stuck index is kept either way)")
	return fs
}

// ServeUsage writes the usage of comptoir-cloud serve to w: every flag,
// what it does and its default.
func ServeUsage(w io.Writer) {
	c := DefaultConfig()
	fs := c.flagSet()
	for _, secret := range []string{"broker-user", "broker-pass", "pg"} {
		fs.Lookup(secret).DefValue = "" // it may come from the environment
	}
	fmt.Fprint(w, "usage: comptoir-cloud serve [flags]\n\nflags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// Validate checks the configuration, naming the flag at fault.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return fmt.Errorf("serve: --data must name a directory")
	case c.HTTPAddr == "":
		return fmt.Errorf("serve: --http must be an address")
	case c.BrokerURL == "" && c.MQTTListen == "":
		return fmt.Errorf("serve: --mqtt-listen must be an address (or use --broker)")
	case c.BrokerDynsec && c.BrokerURL == "":
		return fmt.Errorf("serve: --broker-dynsec needs --broker URL")
	case c.Store != "badger" && c.Store != "postgres":
		return fmt.Errorf("serve: --store must be badger or postgres, not %q", c.Store)
	case c.Store == "postgres" && c.PGDSN == "":
		return fmt.Errorf("serve: --store postgres needs --pg DSN")
	case !cloud.ValidMerchantID(c.IssuerID):
		return fmt.Errorf("serve: --issuer-id must be a merchant id (2 to 64 lower-case letters, digits and dashes)")
	case c.DeadLettersPerTerminal < 1:
		return fmt.Errorf("serve: --dead-letters-per-terminal must be 1 or more")
	case c.DeadLetterMaxAge < time.Minute:
		return fmt.Errorf("serve: --dead-letter-max-age must be a minute or more")
	case c.WebhookPoll <= 0:
		return fmt.Errorf("serve: --webhook-poll must be positive")
	case c.EventRetention < time.Hour:
		return fmt.Errorf("serve: --event-retention must be an hour or more")
	case c.StuckAfter < time.Minute || c.StuckAfter > cloud.MaxStuckAge:
		return fmt.Errorf("serve: --stuck-after must be from a minute to 366 days")
	case c.RelayRateCents < 0 || c.RelayRateCents > 1_000_000:
		return fmt.Errorf("serve: --relay-rate-cents must be 0 to 1000000")
	case !validZone(c.TimeZone):
		return fmt.Errorf("serve: --time-zone must be an IANA time zone such as %s, not %q", cloud.DefaultTimeZone, c.TimeZone)
	case (c.MQTTTLSCert == "") != (c.MQTTTLSKey == ""):
		return fmt.Errorf("serve: --mqtt-tls-cert and --mqtt-tls-key go together")
	case (c.HTTPTLSCert == "") != (c.HTTPTLSKey == ""):
		return fmt.Errorf("serve: --http-tls-cert and --http-tls-key go together")
	case c.MQTTClientCA != "" && c.MQTTTLSCert == "":
		return fmt.Errorf("serve: --mqtt-client-ca needs --mqtt-tls-cert and --mqtt-tls-key")
	case c.MQTTClientCA != "" && c.BrokerURL != "":
		return fmt.Errorf("serve: --mqtt-client-ca is for the embedded broker, not --broker")
	case c.MQTTTerminalQueue < 16 || c.MQTTTerminalQueue > 65536:
		return fmt.Errorf("serve: --mqtt-terminal-queue must be 16 to 65536")
	case c.MQTTAcceptRate < 0:
		return fmt.Errorf("serve: --mqtt-accept-rate must be 0 (no bound) or more")
	case c.PprofAddr != "" && !loopback(c.PprofAddr):
		return fmt.Errorf("serve: --pprof %s must be a loopback address (profiles show the process's memory)", c.PprofAddr)
	}
	if !c.InsecurePlaintext {
		if c.HTTPTLSCert == "" && !loopback(c.HTTPAddr) {
			return fmt.Errorf("serve: --http %s listens beyond loopback in plain text: give --http-tls-cert and --http-tls-key, or --insecure-plaintext behind a TLS proxy", c.HTTPAddr)
		}
		if c.BrokerURL == "" && c.MQTTTLSCert == "" && !loopback(c.MQTTListen) {
			return fmt.Errorf("serve: --mqtt-listen %s listens beyond loopback in plain text: give --mqtt-tls-cert and --mqtt-tls-key, or --insecure-plaintext behind a TLS proxy", c.MQTTListen)
		}
	}
	return nil
}

// loopback reports whether a listen address binds loopback only. An empty
// host binds every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func (c Config) path(name string) string { return filepath.Join(c.DataDir, name) }

// validZone reports whether name is a time zone this binary knows.
func validZone(name string) bool {
	_, err := cloud.LoadTimeZone(name)
	return err == nil
}
