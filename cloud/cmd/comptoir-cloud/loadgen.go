package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/comptoir/comptoir/cloud/loadgen"
)

// loadgenCmd runs a load test and prints its result as one JSON line.
func loadgenCmd(args []string, stdout io.Writer) error {
	if slices.Contains(args, "--fleet") {
		return loadgenFleetCmd(args, stdout)
	}
	var cfg loadgen.Config
	fs := flag.NewFlagSet("comptoir-cloud loadgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.BrokerURL, "broker", "", "MQTT broker URL (tcp://host:port)")
	fs.StringVar(&cfg.Cloud, "cloud", "", "cloud HTTP URL, to enrol the simulated terminals")
	fs.StringVar(&cfg.OperatorKey, "operator-key", os.Getenv("COMPTOIR_OPERATOR_KEY"), "operator API key (with --cloud)")
	fs.IntVar(&cfg.Terminals, "terminals", 10, "simulated terminals")
	fs.IntVar(&cfg.EventsPerTerminal, "events-per-terminal", 1000, "events each terminal sends")
	fs.IntVar(&cfg.BatchSize, "batch", 256, "events a batch")
	fs.IntVar(&cfg.Window, "window", 8, "batches in flight per terminal")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	switch {
	case cfg.BrokerURL == "" && cfg.Cloud == "":
		return fmt.Errorf("loadgen: --broker URL (or --cloud URL) is required")
	case cfg.Cloud != "" && cfg.OperatorKey == "":
		return fmt.Errorf("loadgen: --cloud needs --operator-key (or COMPTOIR_OPERATOR_KEY)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
