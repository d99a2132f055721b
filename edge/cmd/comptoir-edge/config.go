package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/printer"
)

// Config is the terminal agent's configuration: defaults, then the file given
// with --config (JSON), then flags.
type Config struct {
	DataDir    string          `json:"data_dir"`
	HTTPAddr   string          `json:"http_addr"`
	RelayPoint edge.RelayPoint `json:"relay_point"`
	Rules      edge.Rules      `json:"rules"`
	// Printers maps "label" and "receipt" to transport URLs (spool://DIR,
	// tcp://host:9100, file:///dev/usb/lp0, cups://QUEUE, none).
	Printers map[string]string `json:"printers"`
	// Printing sets the label printer's resolution and label size and the
	// receipt printer's paper.
	Printing printer.Renderer `json:"printing"`
	// DiskBudgetBytes caps the journal; deposits are refused past it.
	DiskBudgetBytes int64 `json:"disk_budget_bytes"`
	// Retention is how long acked operations stay in the journal before
	// compaction deletes them; unacked ones are never deleted.
	Retention Duration `json:"retention"`
	// MaxImagePixels bounds camera frames before they are decoded.
	MaxImagePixels int `json:"max_image_pixels"`
	// SessionIdle signs clerks out after this long without activity.
	SessionIdle Duration `json:"session_idle"`
	Demo        bool     `json:"demo"`
}

// Duration is a time.Duration written as "15m" in the config file.
type Duration time.Duration

// UnmarshalJSON reads "15m"-style durations.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// DefaultConfig returns the defaults of DESIGN.md.
func DefaultConfig() Config {
	return Config{
		DataDir:         "data/edge",
		HTTPAddr:        "127.0.0.1:8081",
		Rules:           edge.DefaultRules(),
		DiskBudgetBytes: 2 << 30,
		Retention:       Duration(30 * 24 * time.Hour),
		MaxImagePixels:  40_000_000,
		SessionIdle:     Duration(15 * time.Minute),
	}
}

// printerNames are the keys that "printers" may have.
var printerNames = []string{"label", "receipt"}

// ReadConfigFile overlays the JSON file at path onto c. Unknown keys, at
// any depth, are errors so that a typo does not go unnoticed; errors name
// the key's JSON path.
func (c *Config) ReadConfigFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := checkJSON(data, c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if dec.More() {
		return fmt.Errorf("config %s: text after the JSON object", path)
	}
	return nil
}

// Validate names the first field that is wrong.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("config: data_dir is required")
	}
	if c.HTTPAddr == "" {
		return fmt.Errorf("config: http_addr is required")
	}
	if err := c.Rules.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if c.Retention <= 0 {
		return fmt.Errorf("config: retention must be positive")
	}
	if c.SessionIdle <= 0 {
		return fmt.Errorf("config: session_idle must be positive")
	}
	for name := range c.Printers {
		if !slices.Contains(printerNames, name) {
			return fmt.Errorf("config: printers.%s: unknown printer (known: %s)", name, strings.Join(printerNames, ", "))
		}
	}
	if err := c.Printing.Validate(); err != nil {
		return fmt.Errorf("config: printing: %s", edge.ErrorMessage(err))
	}
	return nil
}

// printerURL returns the transport of printer name, spooling into the data
// dir by default.
func (c *Config) printerURL(name string) string {
	if u := c.Printers[name]; u != "" {
		return u
	}
	dir, _ := filepath.Abs(filepath.Join(c.DataDir, "spool", name))
	return "spool://" + dir
}
