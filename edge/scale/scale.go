// Package scale reads a counter scale where the terminal has one: a serial
// scale speaking MT-SICS on a tty, or a USB scale of the HID Point of Sale
// usage page on a hidraw device. It puts each reading in an edge.ScaleFeed,
// which the Weigher of package edge turns into what the kiosk shows. The
// bytes are parsed by package protocol; this package does the device I/O.
package scale

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/scale/protocol"
)

// Protocols a scale may speak.
const (
	// MTSICS is Mettler Toledo's Standard Interface Command Set over a
	// serial line: the terminal asks "SI" and the scale answers a line
	// such as "S S      1.234 kg". Many counter scales of other makers
	// speak it too.
	MTSICS = "mt-sics"
	// HIDPOS is a USB scale of the HID Point of Sale usage page (0x8D),
	// read from its hidraw device: it sends weight reports by itself.
	HIDPOS = "hid-pos"
)

// Defaults of Config.
const (
	DefaultBaud = 9600
	// Poll is how often the terminal asks an MT-SICS scale for its
	// weight: five answers a second follow a parcel put on the pan
	// without flooding a 9600 baud line (20 bytes an answer).
	Poll = 200 * time.Millisecond
)

// Config says where the scale is and how it speaks. An empty Device means
// no scale: weights are typed.
type Config struct {
	// Device is the scale's device file: a tty (/dev/ttyUSB0,
	// /dev/ttyS0) for MT-SICS, a hidraw device (/dev/hidraw0) for HID.
	Device string `json:"device"`
	// Protocol is MTSICS (the default) or HIDPOS.
	Protocol string `json:"protocol"`
	// Baud is the serial line's speed (MT-SICS only): 1200 to 115200;
	// DefaultBaud when 0. The line is 8 data bits, no parity, 1 stop bit.
	Baud int `json:"baud"`
}

// Enabled reports whether a scale is configured.
func (c Config) Enabled() bool { return c.Device != "" }

// Validate returns an EINVALID error naming the field at fault.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	switch c.Protocol {
	case "", MTSICS, HIDPOS:
	default:
		return edge.Errorf(edge.EINVALID, "scale.protocol: %q is not %s or %s", c.Protocol, MTSICS, HIDPOS)
	}
	if c.Baud != 0 {
		if _, ok := bauds[c.Baud]; !ok {
			return edge.Errorf(edge.EINVALID, "scale.baud: %d is not a serial speed (1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200)", c.Baud)
		}
	}
	return nil
}

// Reader reads a scale into a feed until its context ends.
type Reader struct {
	cfg  Config
	feed *edge.ScaleFeed
	log  *slog.Logger
	now  func() time.Time
}

// New returns a Reader of the scale of cfg into feed; cfg must be valid
// and enabled.
func New(cfg Config, feed *edge.ScaleFeed, log *slog.Logger) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, edge.Errorf(edge.EINVALID, "scale.device: no device given")
	}
	if cfg.Protocol == "" {
		cfg.Protocol = MTSICS
	}
	if cfg.Baud == 0 {
		cfg.Baud = DefaultBaud
	}
	if log == nil {
		log = slog.Default()
	}
	return &Reader{cfg: cfg, feed: feed, log: log.With("component", "scale", "device", cfg.Device), now: time.Now}, nil
}

// Run reads the scale until ctx ends. When the device cannot be opened or
// stops (unplugged, switched off), it tries again with an exponential
// backoff up to 10 s; meanwhile the feed's last reading grows old and the
// Weigher calls the scale silent. It returns ctx's error.
func (r *Reader) Run(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for {
		began := r.now()
		err := r.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.now().Sub(began) > 10*time.Second {
			backoff = 250 * time.Millisecond // it worked for a while
		}
		r.log.Warn("scale unavailable; trying again", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// session opens the device and reads it until an error or ctx's end.
func (r *Reader) session(ctx context.Context) error {
	var (
		f   *os.File
		err error
	)
	if r.cfg.Protocol == HIDPOS {
		f, err = openHID(r.cfg.Device)
	} else {
		f, err = openSerial(r.cfg.Device, r.cfg.Baud)
	}
	if err != nil {
		return err
	}
	// Closing the file ends a Read in progress: the device is opened
	// non-blocking, so Go's poller owns its reads.
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer func() {
		if stop() {
			f.Close()
		}
	}()
	r.log.Info("scale opened", "protocol", r.cfg.Protocol)
	if r.cfg.Protocol == HIDPOS {
		return r.readHID(f)
	}
	return r.readSICS(ctx, f)
}

// readSICS asks the scale for its weight every Poll and reads its answers,
// line by line, into the feed. Lines it cannot read (noise on the line, a
// start-up banner) are skipped.
func (r *Reader) readSICS(ctx context.Context, f *os.File) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	writeErr := make(chan error, 1)
	go func() {
		t := time.NewTicker(Poll)
		defer t.Stop()
		for {
			if _, err := io.WriteString(f, protocol.SICSRequest); err != nil {
				writeErr <- fmt.Errorf("scale: ask weight: %w", err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	br := bufio.NewReaderSize(f, 2*protocol.MaxSICSLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Noise without a line end: drop it up to the next one.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if err != nil {
			select {
			case werr := <-writeErr:
				return werr
			default:
			}
			return fmt.Errorf("scale: read: %w", err)
		}
		reading, perr := protocol.ParseSICS(line)
		if perr != nil {
			r.log.Debug("scale line skipped", "line", fmt.Sprintf("%q", line), "error", perr)
			continue
		}
		r.feed.Put(reading, r.now())
	}
}

// readHID reads the weight reports of a HID scale into the feed, one
// report a read; other reports are skipped.
func (r *Reader) readHID(f *os.File) error {
	buf := make([]byte, 64)
	for {
		n, err := f.Read(buf)
		if err != nil {
			return fmt.Errorf("scale: read: %w", err)
		}
		reading, perr := protocol.ParseHIDReport(buf[:n])
		if perr != nil {
			if !errors.Is(perr, protocol.ErrNotWeight) {
				r.log.Debug("scale report skipped", "report", fmt.Sprintf("% x", buf[:n]), "error", perr)
			}
			continue
		}
		r.feed.Put(reading, r.now())
	}
}
