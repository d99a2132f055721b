package cloud_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/sync/wire"
)

func TestCheckStatus(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	good := func() wire.Status {
		return wire.Status{V: 1, Online: true, Version: "1.4.0", OutboxPending: 3, OutboxOldestAgeS: 2.5, DiskFreeBytes: 1 << 30, Shelf: 4, At: now,
			Printers: map[string]wire.PrinterStatus{"label": {Up: true, State: "ready"}, "receipt": {State: "paper_out", Pending: 2}}}
	}
	printers := func(n int) map[string]wire.PrinterStatus {
		m := map[string]wire.PrinterStatus{}
		for i := range n {
			m[fmt.Sprintf("p%d", i)] = wire.PrinterStatus{Up: true}
		}
		return m
	}
	tests := []struct {
		name  string
		edit  func(*wire.Status)
		valid bool
	}{
		{"typical", func(*wire.Status) {}, true},
		{"last will", func(s *wire.Status) { *s = wire.Status{V: 1} }, true},
		{"8 printers", func(s *wire.Status) { s.Printers = printers(8) }, true},
		{"9 printers", func(s *wire.Status) { s.Printers = printers(9) }, false},
		{"3000 printers", func(s *wire.Status) { s.Printers = printers(3000) }, false},
		{"printer name with a capital", func(s *wire.Status) { s.Printers = map[string]wire.PrinterStatus{"Label": {}} }, false},
		{"printer name of 33 bytes", func(s *wire.Status) { s.Printers = map[string]wire.PrinterStatus{strings.Repeat("a", 33): {}} }, false},
		{"printer name empty", func(s *wire.Status) { s.Printers = map[string]wire.PrinterStatus{"": {}} }, false},
		{"printer name with a quote", func(s *wire.Status) { s.Printers = map[string]wire.PrinterStatus{`a"b`: {}} }, false},
		{"negative printer backlog", func(s *wire.Status) { s.Printers = map[string]wire.PrinterStatus{"label": {Pending: -1}} }, false},
		{"long printer state", func(s *wire.Status) {
			s.Printers = map[string]wire.PrinterStatus{"label": {State: strings.Repeat("x", 65)}}
		}, false},
		{"negative outbox", func(s *wire.Status) { s.OutboxPending = -5 }, false},
		{"negative age", func(s *wire.Status) { s.OutboxOldestAgeS = -0.5 }, false},
		{"infinite age", func(s *wire.Status) { s.OutboxOldestAgeS = math.Inf(1) }, false},
		{"negative shelf", func(s *wire.Status) { s.Shelf = -1 }, false},
		{"long version", func(s *wire.Status) { s.Version = strings.Repeat("1", 65) }, false},
		{"dated 1970", func(s *wire.Status) { s.At = time.Unix(0, 0) }, false},
		{"dated in two days", func(s *wire.Status) { s.At = now.Add(48 * time.Hour) }, false},
		{"dated an hour ahead", func(s *wire.Status) { s.At = now.Add(time.Hour) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := good()
			tt.edit(&st)
			err := cloud.CheckStatus(st, now)
			if tt.valid && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.valid && edge.ErrorCode(err) != cloud.EInvalidStatus {
				t.Fatalf("err = %v, want %s", err, cloud.EInvalidStatus)
			}
		})
	}
}
