package journal

import (
	"context"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// TestCommandApplied checks that an applied command is known by its id,
// after a reopen and after its operation is compacted away.
func TestCommandApplied(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	if ok, err := j.CommandApplied(ctx, "cmd-1"); err != nil || ok {
		t.Fatalf("before: applied = %v, %v; want false", ok, err)
	}
	op, err := j.Append(ctx, edge.NewOperation(edge.OpCommandApplied, time.Now().Add(-time.Hour), "", "", edge.CommandData{CommandID: "cmd-1", Type: "ping"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Ack(ctx, op.Seq, op.Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(ctx, edge.Operation{Type: edge.OpCommandApplied, Data: []byte(`{"command_id":`)}); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("malformed command.applied: %v, want INVALID", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = MustOpen(t, dir, Config{})
	if n, err := j.Compact(ctx, time.Minute); err != nil || n != 1 {
		t.Fatalf("compact: %d, %v; want 1 deleted", n, err)
	}
	for _, tt := range []struct {
		id   string
		want bool
	}{{"cmd-1", true}, {"cmd-2", false}} {
		if ok, err := j.CommandApplied(ctx, tt.id); err != nil || ok != tt.want {
			t.Errorf("CommandApplied(%s) = %v, %v; want %v", tt.id, ok, err, tt.want)
		}
	}
}
