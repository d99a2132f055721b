package edge_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestCommandsApply(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	var revoked []string
	var appended []edge.Operation
	cmds := &edge.Commands{
		Journal: c.j, Desk: c.desk,
		Revoke:   func(ids []string) error { revoked = append(revoked, ids...); return nil },
		Appended: func(op edge.Operation) { appended = append(appended, op) },
	}
	rules := edge.DefaultRules()
	rules.MaxWeightG = 25_000
	conf, _ := json.Marshal(map[string]any{"rules": rules})
	bad := edge.DefaultRules()
	bad.MaxWeightG = -1
	badConf, _ := json.Marshal(map[string]any{"rules": bad})

	tests := []struct {
		name string
		cmd  edge.Command
		want string // error code
	}{
		{"ping", edge.Command{ID: "c1", Type: edge.CmdPing}, ""},
		{"ping again", edge.Command{ID: "c1", Type: edge.CmdPing}, ""},
		{"revocations", edge.Command{ID: "c2", Type: edge.CmdRevocationsAdd, Revocations: []string{"ra-9"}}, ""},
		{"config without rules", edge.Command{ID: "c3", Type: edge.CmdConfigSet, Config: json.RawMessage(`{"printers":{}}`)}, edge.EINVALID},
		{"config with invalid rules", edge.Command{ID: "c4", Type: edge.CmdConfigSet, Config: badConf}, edge.EINVALID},
		{"config", edge.Command{ID: "c5", Type: edge.CmdConfigSet, Config: conf}, ""},
		{"unknown", edge.Command{ID: "c6", Type: "reboot"}, edge.EINVALID},
	}
	for _, tt := range tests {
		if err := cmds.Apply(ctx, tt.cmd); edge.ErrorCode(err) != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if got := c.desk.Rules().MaxWeightG; got != 25_000 {
		t.Errorf("max weight after config.set %d, want 25000", got)
	}
	if !slices.Equal(revoked, []string{"ra-9"}) {
		t.Errorf("revoked %v", revoked)
	}
	// Journalled once each, and only what was applied: c1, c2, c5.
	var ids []string
	for _, op := range appended {
		var d edge.CommandData
		json.Unmarshal(op.Data, &d)
		ids = append(ids, d.CommandID)
		if done, err := c.j.CommandApplied(ctx, d.CommandID); !done || err != nil {
			t.Errorf("%s not indexed as applied: %v", d.CommandID, err)
		}
	}
	if !slices.Equal(ids, []string{"c1", "c2", "c5"}) {
		t.Errorf("command.applied of %v, want c1 c2 c5", ids)
	}
	if done, _ := c.j.CommandApplied(ctx, "c4"); done {
		t.Error("a refused command is marked applied: a fixed one of the same id would be skipped")
	}
}
