package broker

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"log/slog"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/sync/wire"
)

// authHook authenticates clients and enforces the topic rules.
type authHook struct {
	mqtt.HookBase
	passwords    Passwords
	internalPass string
	log          *slog.Logger
	onDisconnect func(tid string)
	// internalOnly, when set, is the only listener where the internal user
	// may log in; certCN requires a terminal's TLS certificate to name it.
	internalOnly string
	certCN       bool
	// admitted is on once terminals may connect.
	admitted *atomic.Bool
	// clients are the broker's; identities decides whether a connection
	// may take over a live session of its terminal.
	clients    *mqtt.Clients
	identities *identityGuard
}

func (h *authHook) ID() string { return "comptoir-auth" }

func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnDisconnect}, []byte{b})
}

// OnDisconnect tells that a terminal left, unless a new connection of the
// same terminal took its session over. A terminal that disconnects cleanly
// sends no will, so this is how the registry learns it is offline.
func (h *authHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	user := string(cl.Properties.Username)
	if h.onDisconnect == nil || user == InternalUser || !wire.ValidTerminalID(user) || cl.IsTakenOver() {
		return
	}
	h.onDisconnect(user)
}

// OnConnectAuthenticate admits the internal user with its password, and a
// terminal whose username is its id, whose client id is that same id (so
// that no terminal takes over another's session), whose password matches
// the registry's hash, and whose will, if any, is its own status; while
// two connections with one identity flap, the one that holds the session
// keeps it (identityGuard).
func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user := string(pk.Connect.Username)
	pass := pk.Connect.Password
	if user == InternalUser {
		if h.internalOnly != "" && cl.Net.Listener != h.internalOnly {
			h.log.Warn("mqtt connection refused", "username", user, "reason", "internal user on the public listener")
			return false
		}
		ok := subtle.ConstantTimeCompare(pass, []byte(h.internalPass)) == 1
		if ok && h.internalOnly != "" && h.admitted.Load() {
			// mochi sized its queue when terminals were already admitted.
			h.log.Warn("cloud client reconnected with a terminal's queue: under load the broker may drop its messages (terminals resend); restart the cloud if ingest falls behind", "client", cl.ID)
		}
		return ok
	}
	if h.certCN && !certNames(cl, user) {
		h.log.Warn("mqtt connection refused", "terminal", user, "reason", "no client certificate naming the terminal")
		return false
	}
	if !wire.ValidTerminalID(user) || cl.ID != user {
		h.log.Warn("mqtt connection refused", "username", user, "client", cl.ID, "reason", "bad username or client id")
		return false
	}
	if pk.Connect.WillFlag && pk.Connect.WillTopic != wire.TerminalTopic(user, wire.KindStatus) {
		h.log.Warn("mqtt connection refused", "terminal", user, "reason", "will topic not its status")
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hash, err := h.passwords.PasswordHash(ctx, user)
	if err != nil || len(hash) == 0 {
		h.log.Warn("mqtt connection refused", "terminal", user, "reason", "not enrolled, or decommissioned")
		return false
	}
	if subtle.ConstantTimeCompare(cloud.HashSecret(string(pass)), hash) != 1 {
		h.log.Warn("mqtt connection refused", "terminal", user, "reason", "bad password")
		return false
	}
	if held, ok := h.clients.Get(user); ok && !held.Closed() {
		return h.identities.takeOver(user, cl.Net.Remote, held.Net.Remote)
	}
	return true
}

// OnACLCheck lets the internal user do anything; a terminal may publish to
// its own events and status topics, and subscribe to its own acks and
// commands and to the trust topic. Anything else is refused.
func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return Allowed(string(cl.Properties.Username), topic, write)
}

// Allowed reports whether the authenticated user may publish (write) to or
// subscribe to topic. Topic filters are matched exactly: a terminal
// subscribing with a wildcard is refused.
func Allowed(user, topic string, write bool) bool {
	if user == InternalUser {
		return true
	}
	if !wire.ValidTerminalID(user) {
		return false
	}
	if write {
		return topic == wire.TerminalTopic(user, wire.KindEvents) || topic == wire.TerminalTopic(user, wire.KindStatus)
	}
	return topic == wire.TerminalTopic(user, wire.KindAcks) || topic == wire.TerminalTopic(user, wire.KindCommands) || topic == wire.TrustTopic
}

// certNames reports whether the client's verified TLS certificate has cn
// as its common name.
func certNames(cl *mqtt.Client, cn string) bool {
	tc, ok := cl.Net.Conn.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return false
	}
	st := tc.ConnectionState()
	return len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 && st.PeerCertificates[0].Subject.CommonName == cn
}
