package main

import (
	"testing"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
	"github.com/comptoir/comptoir/sync/wire"
)

// TestJournalDataLimitFitsABatch: the journal's default bound on an
// operation's data is the one the agent gives it, half a batch of the
// protocol, so that a journal opened by the staff command or a test bounds
// operations as the agent does.
func TestJournalDataLimitFitsABatch(t *testing.T) {
	if journal.DefaultMaxDataBytes != wire.MaxBatchBytes/2 {
		t.Errorf("journal.DefaultMaxDataBytes %d, want half of wire.MaxBatchBytes (%d)", journal.DefaultMaxDataBytes, wire.MaxBatchBytes/2)
	}
}

// TestCommandTypesMatchTheProtocol: the agent hands wire commands to
// edge.Commands by their type's text.
func TestCommandTypesMatchTheProtocol(t *testing.T) {
	for edgeType, wireType := range map[string]string{
		edge.CmdPing: wire.CmdPing, edge.CmdRevocationsAdd: wire.CmdRevocationsAdd, edge.CmdConfigSet: wire.CmdConfigSet,
	} {
		if edgeType != wireType {
			t.Errorf("edge command type %q, wire's %q", edgeType, wireType)
		}
	}
}
