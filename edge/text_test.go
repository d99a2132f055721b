package edge_test

import (
	"context"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"plain", "Client a changé d'avis", true},
		{"accents and emoji", "Zoë Ørsted 📦", true},
		{"Arabic without marks", "مرتجع", true},
		{"NUL", "late\x00", false},
		{"ANSI escape", "\x1b[31mred", false},
		{"newline", "one\ntwo", false},
		{"tab", "a\tb", false},
		{"DEL", "a\x7fb", false},
		{"C1 CSI", "a\u009bb", false},
		{"RLO", "abc\u202edcba", false},
		{"isolate", "x\u2067y", false},
		{"RLM", "x\u200fy", false},
		{"not UTF-8", "caf\xe9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := edge.CheckText("reason", tt.text)
			if got := err == nil; got != tt.ok {
				t.Fatalf("CheckText(%q) = %v, want ok=%v", tt.text, err, tt.ok)
			}
			if err != nil && edge.ErrorCode(err) != edge.EBADTEXT {
				t.Errorf("code %s, want %s", edge.ErrorCode(err), edge.EBADTEXT)
			}
		})
	}
}

// TestFreeTextRefusedWhereItEnters checks that the use cases refuse bad
// text before anything is stored.
func TestFreeTextRefusedWhereItEnters(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	if _, err := edge.AddStaff(ctx, c.j, plainHasher, "Eve\u202eliam", edge.RoleClerk, "2222"); edge.ErrorCode(err) != edge.EBADTEXT {
		t.Errorf("staff name with RLO: %v", err)
	}
	if all, _ := c.j.ListStaff(ctx); len(all) != 0 {
		t.Errorf("staff stored: %+v", all)
	}
	if _, err := c.desk.Cancel(ctx, edge.CancelRequest{DepositID: "x", Reason: "ok\x00", Role: edge.RoleManager}); edge.ErrorCode(err) != edge.EBADTEXT {
		t.Errorf("cancel reason with NUL: %v", err)
	}
	if _, err := c.desk.Handover(ctx, edge.HandoverRequest{All: true, DriverRef: "\x1b]0;pwned\x07"}); edge.ErrorCode(err) != edge.EBADTEXT {
		t.Errorf("driver ref with an escape: %v", err)
	}
}
