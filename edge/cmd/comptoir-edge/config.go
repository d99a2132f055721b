package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/scale"
	"github.com/comptoir/comptoir/printer"
	"github.com/comptoir/comptoir/scanner"
	"github.com/comptoir/comptoir/sync/strictjson"
)

// DefaultMemoryLimit is the soft memory limit of the agent (48 MiB), fitted
// to DESIGN.md's target of 80 MB of RSS under work on a terminal of 1 GB
// shared with the kiosk's browser and the system: the RSS is the Go
// runtime's memory plus the pages of mapped files (the binary, Badger's
// tables and logs: about 20 MB under work), and without a limit the
// garbage collector lets the heap grow to twice what is live (GOGC=100).
// Under it, the collector works harder instead (at most half the CPU when
// what is live exceeds the limit, during a burst of camera frames or a
// compaction), rather than letting the process grow. 48 MiB since the
// journal's tables are 64 KiB: what is live while 100,000 operations
// drain fell to about 20 to 40 MB, and with 64 MiB the heap still grew to
// the limit, with the mapped tables (about 35 MB) over 80 MB of RSS.
const DefaultMemoryLimit = 48 << 20

// Config is the terminal agent's configuration: defaults, then the file given
// with --config (JSON), then flags.
type Config struct {
	DataDir  string `json:"data_dir"`
	HTTPAddr string `json:"http_addr"`
	// HTTPAllowedHosts are the Host names the kiosk answers besides its
	// listen address's and the loopback names (localhost, 127.0.0.1,
	// [::1]); a request for another name gets 421 (DNS rebinding).
	HTTPAllowedHosts []string        `json:"http_allowed_hosts"`
	RelayPoint       edge.RelayPoint `json:"relay_point"`
	Rules            edge.Rules      `json:"rules"`
	// Printers maps "label" and "receipt" to transport URLs (spool://DIR,
	// tcp://host:9100, file:///dev/usb/lp0, cups://QUEUE, none).
	Printers map[string]string `json:"printers"`
	// Printing sets the label printer's resolution and label size and the
	// receipt printer's paper.
	Printing printer.Renderer `json:"printing"`
	// Scale is the counter scale, when the terminal has one; weights are
	// typed otherwise.
	Scale scale.Config `json:"scale"`
	// DiskBudgetBytes caps the journal; deposits are refused past it.
	DiskBudgetBytes int64 `json:"disk_budget_bytes"`
	// Retention is how long the personal data of a customer's return
	// (item names, the label's address, the receipt's token, a
	// cancellation's reason) stays in the journal after the return ended
	// (handed over or cancelled); the operations are then scrubbed to
	// their skeleton (edge.Upkeep).
	Retention Duration `json:"retention"`
	// HistoryRetention is how long acked operations (their skeletons)
	// stay in the journal before compaction deletes them; unacked ones are
	// never deleted.
	HistoryRetention Duration `json:"history_retention"`
	// MaxImagePixels bounds camera frames before they are decoded.
	MaxImagePixels int `json:"max_image_pixels"`
	// MemoryLimitBytes is the Go runtime's soft memory limit (GOMEMLIMIT),
	// set by `comptoir-edge run`; 0 leaves the runtime's default. The
	// GOMEMLIMIT environment variable, when set, wins.
	MemoryLimitBytes int64 `json:"memory_limit_bytes"`
	// JournalKeyFile names a file holding the journal's encryption key (64
	// hexadecimal digits); the systemd credential journal-key wins over it
	// (journalkey.go).
	JournalKeyFile string `json:"journal_key_file"`
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
		DataDir:          "data/edge",
		HTTPAddr:         "127.0.0.1:8081",
		Rules:            edge.DefaultRules(),
		DiskBudgetBytes:  2 << 30,
		Retention:        Duration(edge.DefaultRetention),
		HistoryRetention: Duration(edge.DefaultHistoryRetention),
		MaxImagePixels:   scanner.DefaultMaxPixels,
		MemoryLimitBytes: DefaultMemoryLimit,
		SessionIdle:      Duration(15 * time.Minute),
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
	if err := strictjson.Check(data, c, "the file"); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF { // More() is false before a stray "}" or "]"
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
	if c.HistoryRetention < c.Retention {
		return fmt.Errorf("config: history_retention must be at least retention")
	}
	if c.MemoryLimitBytes < 0 {
		return fmt.Errorf("config: memory_limit_bytes must not be negative")
	}
	if c.MaxImagePixels < 0 {
		return fmt.Errorf("config: max_image_pixels must not be negative")
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
	if err := c.Scale.Validate(); err != nil {
		return fmt.Errorf("config: %s", edge.ErrorMessage(err))
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

// applyMemoryLimit sets the runtime's soft memory limit from the config,
// unless the GOMEMLIMIT environment variable set it already. It is called by
// `comptoir-edge run` only, not by Main.Run: the limit is the process's, and
// tests run many Mains in one process.
func (c *Config) applyMemoryLimit(log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" || c.MemoryLimitBytes <= 0 {
		return
	}
	debug.SetMemoryLimit(c.MemoryLimitBytes)
	log.Info("memory limit set", "bytes", c.MemoryLimitBytes)
}
