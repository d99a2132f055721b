package journal

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestBadgerLoggerLevels(t *testing.T) {
	tests := []struct {
		name string
		log  func(l slogLogger)
		want string // level logged, "" for nothing
	}{
		{name: "error", log: func(l slogLogger) { l.Errorf("disk %s\n", "gone") }, want: "level=ERROR msg=\"disk gone\""},
		{name: "warning", log: func(l slogLogger) { l.Warningf("slow %d", 3) }, want: "level=WARN msg=\"slow 3\""},
		{name: "info dropped", log: func(l slogLogger) { l.Infof("flushed table") }},
		{name: "debug dropped", log: func(l slogLogger) { l.Debugf("compaction") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slogLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			got := buf.String()
			if tt.want == "" && got != "" {
				t.Errorf("got %q, want nothing", got)
			} else if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenLogsNothing(t *testing.T) {
	// The options are consistent: Badger has nothing to warn about when it
	// opens, writes and closes a journal.
	var buf bytes.Buffer
	j := MustOpen(t, "", Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	MustAppend(t, j, depositOp("XY1", "ra-1", "001"))
	if _, err := j.Compact(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "level=WARN") || strings.Contains(buf.String(), "level=ERROR") {
		t.Errorf("warnings from an ordinary use:\n%s", buf.String())
	}
}
