package main

import (
	"errors"
	"flag"
	"io"
)

// usageError is a command-line mistake that has already been printed, with
// the usage, on stderr: main exits with status 2 without printing it again.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// newFlagSet returns a flag set that reports its errors and usage on stderr
// (once: see parseArgs).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseArgs parses the flags of fs wherever they stand among args, so that
// `scan a.png --json` means what `scan --json a.png` does; a "--" ends the
// flags. It returns the other arguments in order. A flag error, which the
// flag package has printed with the usage, comes back as a usageError;
// -h and --help as flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if i := len(args) - len(left); i > 0 && args[i-1] == "--" {
			return append(rest, left...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}
