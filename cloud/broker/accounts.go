package broker

import (
	"context"
	"errors"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/comptoir/comptoir/cloud"
)

var _ cloud.BrokerAccounts = (*Broker)(nil)

// RegisterTerminal implements cloud.BrokerAccounts. It does nothing: the
// embedded broker checks a terminal's password against the registry at
// each connection.
func (b *Broker) RegisterTerminal(ctx context.Context, tid, password string) error { return nil }

// CloseTerminal implements cloud.BrokerAccounts: it drops the open
// connection of terminal tid, if any. The registry has already removed the
// terminal's password, so it cannot connect again.
func (b *Broker) CloseTerminal(ctx context.Context, tid string) error {
	srv := b.server
	if srv == nil {
		return errors.New("broker: close terminal: the broker is not running")
	}
	if cl, ok := srv.Clients.Get(tid); ok && !cl.Closed() {
		// An error is the reason code itself: the client is gone.
		_ = srv.DisconnectClient(cl, packets.ErrNotAuthorized)
		b.Logger.Info("terminal disconnected: decommissioned", "component", "broker", "terminal", tid)
	}
	return nil
}
