package scale_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/scale"
	"github.com/comptoir/comptoir/edge/scale/scaletest"
)

var quiet = slog.New(slog.DiscardHandler)

// runReader reads the scale of cfg into a new feed until the test ends,
// and fails the test if Run does not return once its context is done.
func runReader(t *testing.T, cfg scale.Config) *edge.ScaleFeed {
	t.Helper()
	feed := &edge.ScaleFeed{}
	r, err := scale.New(cfg, feed, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return feed
}

// waitReading waits for a reading of feed newer than the after-th that
// equals want, and returns how many came. The guard is against a hang,
// not a measure of time.
func waitReading(t *testing.T, feed *edge.ScaleFeed, after uint64, want edge.ScaleReading) uint64 {
	t.Helper()
	guard := time.Now().Add(30 * time.Second)
	for {
		r, _, n := feed.Latest()
		if n > after && r == want {
			return n
		}
		if time.Now().After(guard) {
			t.Fatalf("the feed never read %+v; last %+v (%d readings)", want, r, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSerialSICS reads a fake MT-SICS scale on a pseudo-terminal: the
// reader asks "SI" and reads its answers, in every state and in other
// units, skipping lines it cannot read.
func TestSerialSICS(t *testing.T) {
	fake := scaletest.NewSICS(t)
	feed := runReader(t, scale.Config{Device: fake.Path, Protocol: scale.MTSICS, Baud: 9600})
	tests := []struct {
		line string
		want edge.ScaleReading
	}{
		{"S S      1.234 kg", edge.ScaleReading{Milligrams: 1_234_000, State: edge.ScaleStable}},
		{"S D      1.190 kg", edge.ScaleReading{Milligrams: 1_190_000, State: edge.ScaleUnstable}},
		{"S +", edge.ScaleReading{State: edge.ScaleOverload}},
		{"S S     -0.025 kg", edge.ScaleReading{Milligrams: -25_000, State: edge.ScaleNegative}},
		{"S S      2.000 lb", edge.ScaleReading{Milligrams: 907_185, State: edge.ScaleStable}},
		{"S S    850.0 g", edge.ScaleReading{Milligrams: 850_000, State: edge.ScaleStable}},
	}
	var n uint64
	for _, tt := range tests {
		fake.Show(tt.line)
		n = waitReading(t, feed, n, tt.want)
	}
	if fake.Asked() < len(tests) {
		t.Fatalf("the scale was asked %d times for %d readings", fake.Asked(), len(tests))
	}
}

// TestSerialSICSSkipsNoise: lines that are not weights (a refusal, noise,
// a line longer than any answer) leave the last reading as it is, and the
// next good line is read.
func TestSerialSICSSkipsNoise(t *testing.T) {
	fake := scaletest.NewSICS(t)
	feed := runReader(t, scale.Config{Device: fake.Path})
	fake.Show("S S 0.500 kg")
	n := waitReading(t, feed, 0, edge.ScaleReading{Milligrams: 500_000, State: edge.ScaleStable})
	for _, noise := range []string{"S I", "ES", strings.Repeat("x", 300), "S S 1,5 kg"} {
		fake.Show(noise)
		asked := fake.Asked()
		for fake.Asked() < asked+3 { // three answers of noise read
			time.Sleep(10 * time.Millisecond)
		}
		if r, _, m := feed.Latest(); m != n || r.Milligrams != 500_000 {
			t.Fatalf("after %.20q the feed holds %+v (%d readings, was %d)", noise, r, m, n)
		}
	}
	fake.Show("S S 0.750 kg")
	waitReading(t, feed, n, edge.ScaleReading{Milligrams: 750_000, State: edge.ScaleStable})
}

// TestHIDReports reads weight reports from a FIFO standing in for a
// hidraw device (which gives one report a read, as the FIFO does when
// each is read before the next is written).
func TestHIDReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hidraw0")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0) // a writer that does not wait for a reader
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	feed := runReader(t, scale.Config{Device: path, Protocol: scale.HIDPOS})
	tests := []struct {
		report []byte
		want   edge.ScaleReading
	}{
		{[]byte{3, 4, 2, 0, 0xB0, 0x04}, edge.ScaleReading{Milligrams: 1_200_000, State: edge.ScaleStable}},
		{[]byte{3, 3, 11, 0xFF, 0x2A, 0x00}, edge.ScaleReading{Milligrams: 119_068, State: edge.ScaleUnstable}},
		{[]byte{3, 6, 2, 0, 0xFF, 0xFF}, edge.ScaleReading{State: edge.ScaleOverload}},
		{[]byte{3, 5, 2, 0, 0x19, 0x00}, edge.ScaleReading{Milligrams: -25_000, State: edge.ScaleNegative}},
	}
	var n uint64
	for _, tt := range tests {
		if _, err := w.Write(tt.report); err != nil {
			t.Fatal(err)
		}
		n = waitReading(t, feed, n, tt.want)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  scale.Config
		want string // in the error; "" for none
	}{
		{scale.Config{}, ""},
		{scale.Config{Device: "/dev/ttyUSB0"}, ""},
		{scale.Config{Device: "/dev/hidraw0", Protocol: scale.HIDPOS}, ""},
		{scale.Config{Device: "/dev/ttyUSB0", Baud: 19200}, ""},
		{scale.Config{Device: "/dev/ttyUSB0", Protocol: "toledo"}, "scale.protocol"},
		{scale.Config{Device: "/dev/ttyUSB0", Baud: 9601}, "scale.baud"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (edge.ErrorCode(err) != edge.EINVALID || !strings.Contains(edge.ErrorMessage(err), tt.want)) {
			t.Errorf("%+v: err %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := scale.New(scale.Config{}, &edge.ScaleFeed{}, quiet); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("a reader of no device: err %v", err)
	}
}
