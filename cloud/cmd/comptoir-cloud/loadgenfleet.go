package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/comptoir/comptoir/cloud/loadgen"
)

// fleetResult is the JSON line of loadgen --fleet.
type fleetResult struct {
	loadgen.FleetStats
	ConnectSeconds    float64 `json:"connect_seconds"`
	ConnectsPerSecond float64 `json:"connects_per_second"`
}

// loadgenFleetCmd holds a fleet connected (loadgen --fleet): it enrols and
// connects the terminals, prints one JSON line once all are connected, and
// stays until --hold has passed or it is interrupted, reconnecting
// terminals that lose the cloud; then it prints the final counts.
func loadgenFleetCmd(args []string, stdout io.Writer) error {
	var cfg loadgen.FleetConfig
	var hold time.Duration
	var caFile, sources string
	fs := flag.NewFlagSet("comptoir-cloud loadgen --fleet", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("fleet", true, "hold a connected fleet")
	fs.StringVar(&cfg.BrokerURL, "broker", "", "MQTT broker URL (tcp:// or mqtts://); from enrolment with --cloud")
	fs.StringVar(&cfg.Cloud, "cloud", "", "cloud HTTP URL, to enrol the simulated terminals")
	fs.StringVar(&cfg.OperatorKey, "operator-key", os.Getenv("COMPTOIR_OPERATOR_KEY"), "operator API key (with --cloud)")
	fs.IntVar(&cfg.Terminals, "terminals", 1000, "simulated terminals")
	fs.StringVar(&cfg.Prefix, "prefix", "", "terminal id prefix (random by default)")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", 0, "first connections a second (0: all at once)")
	fs.IntVar(&cfg.EventsPerConnect, "events-per-connect", 0, "events each terminal sends after each connection")
	fs.DurationVar(&cfg.StatusEvery, "status-every", time.Minute, "status schedule")
	fs.DurationVar(&hold, "hold", 0, "how long to stay connected once all are (0: until interrupted)")
	fs.StringVar(&caFile, "ca", "", "PEM `FILE` of the CA that signed the broker's certificate (mqtts://)")
	fs.StringVar(&sources, "source-addrs", "", "comma-separated local addresses to connect from")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	if cfg.Cloud != "" && cfg.OperatorKey == "" {
		return fmt.Errorf("loadgen: --cloud needs --operator-key (or COMPTOIR_OPERATOR_KEY)")
	}
	if sources != "" {
		cfg.SourceAddrs = strings.Split(sources, ",")
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("loadgen: --ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("loadgen: --ca %s holds no PEM certificate", caFile)
		}
		cfg.TLS = &tls.Config{RootCAs: pool}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := loadgen.NewFleet(ctx, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	f.Start(ctx)
	defer f.Close()
	if err := f.WaitConnected(ctx, cfg.Terminals); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(fleetResult{f.Stats(), secs, float64(cfg.Terminals) / secs}); err != nil {
		return err
	}
	if hold > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hold)
		defer cancel()
	}
	<-ctx.Done()
	f.Close()
	return enc.Encode(fleetResult{FleetStats: f.Stats()})
}
