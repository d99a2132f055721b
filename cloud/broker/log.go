package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/mochi-mqtt/server/v2/packets"
)

// mochiHandler is the slog handler of mochi's own log. mochi logs every
// connection at Info and, when a packet cannot be processed, the whole
// packet: a terminal's events batch of up to 128 KiB, written as a Go
// struct dump, when the cloud stops while a terminal drains its outbox
// (the acknowledgement of the batch cannot be written to a connection
// being closed). So it keeps warnings only, writes a packet as its type,
// topic and size, and drops the end of a connection that the broker
// itself closed (net.ErrClosed: shutdown, takeover, decommissioning),
// which is no news.
type mochiHandler struct {
	slog.Handler
}

func (h mochiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h mochiHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	closed := false
	r.Attrs(func(a slog.Attr) bool {
		switch v := a.Value.Any().(type) {
		case packets.Packet:
			a = slog.String(a.Key, packetSummary(v))
		case error:
			closed = closed || errors.Is(v, net.ErrClosed) || errors.Is(v, packets.ErrServerShuttingDown)
		}
		out.AddAttrs(a)
		return true
	})
	if closed {
		return nil
	}
	if out.Message == "" {
		// mochi's listeners log the error that ended a connection
		// without a message.
		out.Message = "mqtt connection ended"
	}
	return h.Handler.Handle(ctx, out)
}

func (h mochiHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return mochiHandler{Handler: h.Handler.WithAttrs(a)}
}

func (h mochiHandler) WithGroup(name string) slog.Handler {
	return mochiHandler{Handler: h.Handler.WithGroup(name)}
}

// packetSummary describes an MQTT packet in a few words: its type, its
// topic and the size of its payload, never the payload itself.
func packetSummary(pk packets.Packet) string {
	name := packets.PacketNames[pk.FixedHeader.Type]
	if pk.FixedHeader.Type != packets.Publish {
		return fmt.Sprintf("%s id=%d", name, pk.PacketID)
	}
	return fmt.Sprintf("%s topic=%q id=%d qos=%d payload=%d bytes", name, pk.TopicName, pk.PacketID, pk.FixedHeader.Qos, len(pk.Payload))
}
