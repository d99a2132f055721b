package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Command types of the cloud (DESIGN.md, MQTT protocol).
const (
	CmdPing           = "ping"
	CmdRevocationsAdd = "revocations.add"
	CmdConfigSet      = "config.set"
)

// Command is a command of the cloud to this terminal, as the uplink
// received it.
type Command struct {
	ID   string
	Type string
	// Config holds the settings of config.set: {"rules":{...}}.
	Config json.RawMessage
	// Revocations holds the RA ids of revocations.add.
	Revocations []string
}

// CommandJournal is what applying commands needs of the journal.
type CommandJournal interface {
	// CommandApplied reports whether the command id was applied (its
	// command.applied is journalled).
	CommandApplied(ctx context.Context, id string) (bool, error)
	// Append journals op durably; see Journal.Append.
	Append(ctx context.Context, op Operation, jobs ...PrintJob) (Operation, error)
}

// Commands is the use case that carries out the cloud's commands, each
// once: a command delivered again (MQTT QoS 1 delivers at least once, across
// restarts too) is skipped, since command.applied is journalled after it is
// carried out. Its fields are set once by the wiring code.
type Commands struct {
	Journal CommandJournal
	Desk    *Desk
	// Revoke adds RA ids to the trust list's revocations, and keeps them.
	Revoke func(raIDs []string) error
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Appended, when set, is told of the command.applied journalled.
	Appended func(Operation)
	// Logger receives what was applied, skipped or refused.
	Logger *slog.Logger
}

// Apply carries out cmd and journals command.applied. It returns INVALID
// for a command it refuses (an unknown type, a config.set without valid
// rules), which is not journalled, so that a fixed command of the same id
// may follow; other errors are the terminal's (the journal).
func (c *Commands) Apply(ctx context.Context, cmd Command) error {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	if done, err := c.Journal.CommandApplied(ctx, cmd.ID); err != nil {
		return fmt.Errorf("apply command: %w", err)
	} else if done {
		log.Info("command already applied", "command", cmd.ID, "type", cmd.Type)
		return nil
	}
	if err := c.carryOut(cmd); err != nil {
		log.Warn("command refused", "command", cmd.ID, "type", cmd.Type, "error", err)
		return err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	op := NewOperation(OpCommandApplied, now(), "", "", CommandData{CommandID: cmd.ID, Type: cmd.Type})
	op, err := c.Journal.Append(ctx, op)
	if err != nil {
		return fmt.Errorf("apply command: %w", err)
	}
	if c.Appended != nil {
		c.Appended(op)
	}
	log.Info("command applied", "command", cmd.ID, "type", cmd.Type, "seq", op.Seq)
	return nil
}

func (c *Commands) carryOut(cmd Command) error {
	switch cmd.Type {
	case CmdPing:
		return nil
	case CmdRevocationsAdd:
		if err := c.Revoke(cmd.Revocations); err != nil {
			return fmt.Errorf("revocations.add: %w", err)
		}
		return nil
	case CmdConfigSet:
		var conf struct {
			Rules *Rules `json:"rules"`
		}
		if err := json.Unmarshal(cmd.Config, &conf); err != nil || conf.Rules == nil {
			return Errorf(EINVALID, "config.set needs {\"rules\":{...}}.")
		}
		return c.Desk.SetRules(*conf.Rules)
	}
	return Errorf(EINVALID, "Unknown command type %q.", cmd.Type)
}
