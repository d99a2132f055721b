package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner"
)

// scanLine is one line of `scan --json`.
type scanLine struct {
	File    string        `json:"file"`
	Symbols []edge.Symbol `json:"symbols"`
	Error   *string       `json:"error"`
}

// scanCmd decodes each image file named; it fails when any file had no
// readable code, with --json too (after printing every line).
func scanCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan", stderr)
	asJSON := fs.Bool("json", false, "one JSON line per file")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("scan: name at least one image file")
	}
	dec := &scanner.Decoder{}
	enc := json.NewEncoder(stdout)
	failed := 0
	for _, file := range files {
		line := scanLine{File: file, Symbols: []edge.Symbol{}}
		data, err := os.ReadFile(file)
		if err == nil {
			var syms []edge.Symbol
			if syms, err = dec.Decode(ctx, data); syms != nil {
				line.Symbols = syms
			}
		}
		if err != nil {
			msg := err.Error()
			if e := edge.ErrorMessage(err); edge.ErrorCode(err) != edge.EINTERNAL {
				msg = edge.ErrorCode(err) + ": " + e
			}
			line.Error = &msg
			failed++
		}
		if *asJSON {
			enc.Encode(line)
			continue
		}
		for _, s := range line.Symbols {
			fmt.Fprintf(stdout, "%s: %s %s\n", file, s.Format, s.Text)
		}
		if line.Error != nil {
			fmt.Fprintf(stdout, "%s: error: %s\n", file, *line.Error)
		}
	}
	if failed > 0 {
		return fmt.Errorf("scan: %d of %d files had no readable code", failed, len(files))
	}
	return nil
}
