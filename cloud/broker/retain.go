package broker

import (
	"bytes"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// statusNotRetained keeps no terminal's status (or will) as a retained
// message. Terminals publish their status retained, for an external
// broker that outlives the cloud's consumer; the embedded broker lives
// and dies with the cloud, whose consumer connects before any terminal
// and keeps every last status in the registry. Retained, a status cost
// the embedded broker about 1.1 KB a terminal, and mochi copied all of
// them once a second looking for expired ones (8 MB at 10,000 terminals).
type statusNotRetained struct{ mqtt.HookBase }

func (statusNotRetained) ID() string { return "comptoir-status-not-retained" }

func (statusNotRetained) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnPublish, mqtt.OnWill}, []byte{b})
}

// OnPublish clears the retain flag of a terminal's messages (the access
// rules let terminals publish only their events and status).
func (statusNotRetained) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if string(cl.Properties.Username) != InternalUser {
		pk.FixedHeader.Retain = false
	}
	return pk, nil
}

// OnWill clears the retain flag of a terminal's will (its offline status).
func (statusNotRetained) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if string(cl.Properties.Username) != InternalUser {
		will.Retain = false
	}
	return will, nil
}
