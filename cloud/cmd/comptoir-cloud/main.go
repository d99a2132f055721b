// Command comptoir-cloud is the Comptoir cloud service: embedded MQTT broker,
// ingest of the terminals' operations, timelines, fleet registry and HTTP
// API. It only wires; see package cloud/server.
//
//	comptoir-cloud serve [--data DIR] [--http ADDR] [--mqtt-listen ADDR | --broker URL]
//	                     [--store badger|postgres] [--pg DSN] [--demo]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	// The network's time zone (--time-zone) must load on hosts and images
	// without a zoneinfo database.
	_ "time/tzdata"

	"github.com/comptoir/comptoir/cloud/server"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const usage = `usage:
  comptoir-cloud serve [--data DIR] [--http ADDR] [--mqtt-listen ADDR | --broker URL]
                       [--broker-user USER] [--broker-pass PASS] [--broker-dynsec]
                       [--mqtt-public-url URL] [--store badger|postgres] [--pg DSN]
                       [--demo] [--issuer-id ID]
                       [--dead-letters-per-terminal N] [--dead-letter-max-age DURATION]
                       [--webhook-allow-private] [--webhook-poll DURATION] [--time-zone ZONE]
                       [--mqtt-tls-cert FILE --mqtt-tls-key FILE [--mqtt-client-ca FILE]]
                       [--http-tls-cert FILE --http-tls-key FILE] [--insecure-plaintext]
      (comptoir-cloud serve --help describes each flag)
  comptoir-cloud keys add --role issuer|partner --merchant ID --name NAME [--data DIR | --store postgres --pg DSN]
  comptoir-cloud keys add --role operator --name NAME [--data DIR | --store postgres --pg DSN]
  comptoir-cloud keys list [--data DIR | --store postgres --pg DSN]
  comptoir-cloud keys revoke ID|NAME [--data DIR | --store postgres --pg DSN]
      (keys are stored hashed: add prints the new key once; with Badger, stop serve first)
  comptoir-cloud demo-return [--cloud URL] [--data DIR | --issuer-key KEY] [--out FILE.png]
  comptoir-cloud webhook-listen [--addr 127.0.0.1:9000] [--cloud URL] [--data DIR | --issuer-key KEY]
                                [--events TYPE,...] [--secret whsec_...]
      (prints the verified deliveries; without --secret it subscribes itself,
       which needs a cloud run with --webhook-allow-private)
  comptoir-cloud version
  comptoir-cloud loadgen --broker URL --terminals N --events-per-terminal M
                         [--cloud URL --operator-key KEY] [--batch N] [--window N]
      (with --cloud, each simulated terminal is enrolled first, as the embedded
       broker requires; the operator key may come from COMPTOIR_OPERATOR_KEY)
  comptoir-cloud loadgen --fleet --cloud URL --terminals N [--ca FILE] [--connect-rate N/s]
                         [--events-per-connect N] [--hold DURATION] [--source-addrs IP,...]
      (holds N terminals connected with persistent sessions and their status,
       each reconnecting on its own: a restarted cloud meets its reconnect storm)

defaults: --data ./data/cloud --http 127.0.0.1:8080 --mqtt-listen 127.0.0.1:1884 --store badger
`

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the help asked for is printed
		}
		fmt.Fprintln(os.Stderr, "comptoir-cloud:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve":
		if slices.ContainsFunc(args[1:], isHelp) {
			server.ServeUsage(stdout)
			return flag.ErrHelp
		}
		return serve(args[1:])
	case "version":
		fmt.Fprintln(stdout, Version)
		return nil
	case "loadgen":
		return loadgenCmd(args[1:], os.Stdout)
	case "keys":
		return server.Keys(context.Background(), args[1:], os.Stdout)
	case "demo-return":
		return demoReturnCmd(args[1:], os.Stdout)
	case "webhook-listen":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return webhookListenCmd(ctx, args[1:], os.Stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// isHelp reports whether arg asks for help, as the flag package reads it.
func isHelp(arg string) bool {
	return slices.Contains([]string{"-h", "-help", "--help", "--h"}, arg)
}

func serve(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := server.NewMain()
	m.Config.Version = Version
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	slog.Info("comptoir-cloud ready", "http", m.HTTPURL(), "mqtt", m.MQTTURL(), "data", m.Config.DataDir)
	if m.Config.Demo {
		slog.Info("demo API keys are in " + m.Config.DataDir + "/demo.json")
	}
	<-ctx.Done()
	slog.Info("stopping")
	return m.Close()
}
