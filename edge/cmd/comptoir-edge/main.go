// Command comptoir-edge is the terminal agent of a parcel drop-off counter:
// it decodes codes, takes deposits, prints, and syncs its journal to the cloud.
//
//	comptoir-edge enroll --cloud URL [--operator-key KEY|-] --terminal ID [--name TEXT] [--data DIR]
//	  (the key from standard input with -, else from $COMPTOIR_OPERATOR_KEY)
//	comptoir-edge run [--data DIR] [--http ADDR] [--demo] [--config FILE]
//	comptoir-edge staff add --data DIR --name NAME --role clerk|manager --pin PIN
//	comptoir-edge staff list --data DIR
//	comptoir-edge staff disable --data DIR --id ID|NAME
//	comptoir-edge scan [--json] FILE...
//
// Flags may come before or after the other arguments; "--" ends them.
//
// This package only wires: the domain is in edge, the adapters in
// edge/journal, scanner, printer, sync/uplink and ui.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is stamped at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var usage usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp): // the help asked for is printed
	case errors.As(err, &usage): // printed with the usage
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "comptoir-edge:", err)
		os.Exit(1)
	}
}

const usage = `usage: comptoir-edge <command> [flags]

commands:
  enroll   register this terminal with the cloud and store its credentials
  run      run the terminal agent and its kiosk UI
  staff    manage staff accounts (staff add|list|disable)
  scan     decode barcodes in image files
  version  print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command")}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		m := NewMain()
		m.Stdout, m.Stderr = stdout, stderr
		if err := m.ParseFlags(rest); err != nil {
			return err
		}
		m.Config.applyMemoryLimit(m.Logger)
		if err := m.Run(ctx); err != nil {
			m.Close()
			return err
		}
		fmt.Fprintf(stdout, "comptoir-edge %s: terminal %s, kiosk on %s\n", Version, m.Terminal(), m.URL())
		<-ctx.Done()
		return m.Close()
	case "enroll":
		return enrollCmd(ctx, rest, stdout, stderr)
	case "staff":
		return staffCmd(ctx, rest, stdout, stderr)
	case "scan":
		return scanCmd(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "comptoir-edge: unknown command %q\n%s", cmd, usage)
		return usageError{fmt.Errorf("unknown command %q", cmd)}
	}
}
