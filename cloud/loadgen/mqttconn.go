package loadgen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// mqttConn is the least of an MQTT 3.1.1 client that a simulated terminal
// of a large fleet needs: connect with a persistent session and a will,
// subscribe, publish at QoS 1 and take deliveries at QoS 1. paho gives each
// client several goroutines, channels and stores; tens of thousands of
// terminals in one process need one goroutine and a small read buffer each.
type mqttConn struct {
	conn   net.Conn
	r      *bufio.Reader
	wmu    sync.Mutex
	nextID uint16
}

// MQTT 3.1.1 packet types (the high nibble of the fixed header).
const (
	pktConnect    = 1
	pktConnack    = 2
	pktPublish    = 3
	pktPuback     = 4
	pktSubscribe  = 8
	pktSuback     = 9
	pktPingreq    = 12
	pktPingresp   = 13
	pktDisconnect = 14
)

// errRefused is a CONNACK with a non-zero return code.
var errRefused = errors.New("connection refused by the broker")

// maxInbound bounds a packet the simulated terminal reads: the trust list
// is the largest thing it receives.
const maxInbound = 1 << 20

// connectOpts is what a CONNECT carries.
type connectOpts struct {
	clientID, user, pass string
	clean                bool
	keepalive            time.Duration
	willTopic            string
	willPayload          []byte
}

// handshake sends CONNECT and reads the CONNACK; it reports whether the
// broker still had the session.
func (c *mqttConn) handshake(o connectOpts) (sessionPresent bool, err error) {
	var flags byte
	var payload []byte
	payload = appendString(payload, o.clientID)
	if o.clean {
		flags |= 0x02
	}
	if o.willTopic != "" {
		flags |= 0x04 | 1<<3 | 0x20 // will, QoS 1, retained
		payload = appendString(payload, o.willTopic)
		payload = appendBytes(payload, o.willPayload)
	}
	if o.user != "" {
		flags |= 0x80
		payload = appendString(payload, o.user)
	}
	if o.pass != "" {
		flags |= 0x40
		payload = appendString(payload, o.pass)
	}
	vh := appendString(nil, "MQTT")
	vh = append(vh, 4, flags)
	vh = binary.BigEndian.AppendUint16(vh, uint16(o.keepalive/time.Second))
	if err := c.write(pktConnect<<4, append(vh, payload...)); err != nil {
		return false, err
	}
	typ, body, err := c.read()
	if err != nil {
		return false, err
	}
	if typ>>4 != pktConnack || len(body) != 2 {
		return false, fmt.Errorf("mqtt: expected CONNACK, got packet type %d", typ>>4)
	}
	if body[1] != 0 {
		return false, fmt.Errorf("%w (code %d)", errRefused, body[1])
	}
	return body[0]&1 == 1, nil
}

// subscribe sends one SUBSCRIBE of the topics at QoS 1; its SUBACK comes
// through read like any packet.
func (c *mqttConn) subscribe(topics ...string) error {
	b := binary.BigEndian.AppendUint16(nil, c.packetID())
	for _, t := range topics {
		b = append(appendString(b, t), 1)
	}
	return c.write(pktSubscribe<<4|0x02, b)
}

// publish sends a QoS 1 message and returns its packet id.
func (c *mqttConn) publish(topic string, payload []byte, retain, dup bool) (uint16, error) {
	id := c.packetID()
	h := byte(pktPublish<<4 | 1<<1)
	if retain {
		h |= 1
	}
	if dup {
		h |= 1 << 3
	}
	b := appendString(make([]byte, 0, len(topic)+4+len(payload)), topic)
	b = binary.BigEndian.AppendUint16(b, id)
	return id, c.write(h, append(b, payload...))
}

// puback acknowledges a QoS 1 delivery.
func (c *mqttConn) puback(id uint16) error {
	return c.write(pktPuback<<4, binary.BigEndian.AppendUint16(nil, id))
}

func (c *mqttConn) ping() error       { return c.write(pktPingreq<<4, nil) }
func (c *mqttConn) disconnect() error { return c.write(pktDisconnect<<4, nil) }

func (c *mqttConn) packetID() uint16 {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nextID++
	if c.nextID == 0 {
		c.nextID = 1
	}
	return c.nextID
}

// write sends one packet, whole.
func (c *mqttConn) write(header byte, body []byte) error {
	b := make([]byte, 0, 5+len(body))
	b = append(b, header)
	n := len(body)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			break
		}
	}
	b = append(b, body...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := c.conn.Write(b)
	return err
}

// read returns the next packet's first byte and body.
func (c *mqttConn) read() (byte, []byte, error) {
	h, err := c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		d, err := c.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(d&0x7f) * mult
		if d&0x80 == 0 {
			break
		}
		if mult *= 128; i == 3 {
			return 0, nil, errors.New("mqtt: malformed remaining length")
		}
	}
	if n > maxInbound {
		return 0, nil, fmt.Errorf("mqtt: packet of %d bytes over the %d the terminal reads", n, maxInbound)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, err
	}
	return h, body, nil
}

// parsePublish splits a PUBLISH's body into topic, packet id (0 at QoS 0)
// and payload.
func parsePublish(h byte, body []byte) (string, uint16, []byte, error) {
	if len(body) < 2 {
		return "", 0, nil, errors.New("mqtt: short PUBLISH")
	}
	tl := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+tl {
		return "", 0, nil, errors.New("mqtt: short PUBLISH topic")
	}
	topic, rest := string(body[2:2+tl]), body[2+tl:]
	var id uint16
	if (h>>1)&3 > 0 {
		if len(rest) < 2 {
			return "", 0, nil, errors.New("mqtt: PUBLISH without packet id")
		}
		id, rest = binary.BigEndian.Uint16(rest), rest[2:]
	}
	return topic, id, rest, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
