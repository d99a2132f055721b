package uplink

import (
	"bytes"
	"sync"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// copyStore is paho's in-flight store, kept in memory as the packets'
// bytes: each Get hands back a fresh copy. paho's own memory store hands
// back the packet it was given, and on connect paho's resume sets the DUP
// flag of a stored publish while its writer may still be sending that very
// packet: a data race (paho v1.5.1, client.go resume) that the race
// detector found in TestTLS. A copy costs a resend at worst, which the
// protocol already allows (the cloud acks by seq, idempotently).
type copyStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ mqtt.Store = (*copyStore)(nil)

func newCopyStore() *copyStore { return &copyStore{m: map[string][]byte{}} }

func (s *copyStore) Open()  {}
func (s *copyStore) Close() {}

func (s *copyStore) Put(key string, p packets.ControlPacket) {
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return // a packet that cannot be written cannot be resent either
	}
	s.mu.Lock()
	s.m[key] = buf.Bytes()
	s.mu.Unlock()
}

func (s *copyStore) Get(key string) packets.ControlPacket {
	s.mu.Lock()
	b, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	p, err := packets.ReadPacket(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return p
}

func (s *copyStore) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	return keys
}

func (s *copyStore) Del(key string) {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}

func (s *copyStore) Reset() {
	s.mu.Lock()
	s.m = map[string][]byte{}
	s.mu.Unlock()
}
