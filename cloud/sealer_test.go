package cloud_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud"
)

func TestSealer(t *testing.T) {
	s, err := cloud.NewSealer(bytes.Repeat([]byte{7}, cloud.KEKSize))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal("k-1", "seed-of-k1")
	if !cloud.Sealed(sealed) || strings.Contains(sealed, "seed-of-k1") {
		t.Fatalf("sealed = %q", sealed)
	}
	if again := s.Seal("k-1", "seed-of-k1"); again == sealed {
		t.Error("two seals of one half are equal: the nonce is not random")
	}
	if got, err := s.Open("k-1", sealed); err != nil || got != "seed-of-k1" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if got, err := s.Open("k-1", "clear-seed"); err != nil || got != "clear-seed" {
		t.Errorf("a half stored before sealing: %q, %v; want it as it is", got, err)
	}
	other, _ := cloud.NewSealer(bytes.Repeat([]byte{8}, cloud.KEKSize))
	flipped := []byte(sealed)
	flipped[len(flipped)-3] ^= 1
	for name, open := range map[string]func() (string, error){
		"another key's id":  func() (string, error) { return s.Open("k-2", sealed) },
		"another kek":       func() (string, error) { return other.Open("k-1", sealed) },
		"a flipped bit":     func() (string, error) { return s.Open("k-1", string(flipped)) },
		"cut short":         func() (string, error) { return s.Open("k-1", sealed[:14]) },
		"no sealer at hand": func() (string, error) { return (*cloud.Sealer)(nil).Open("k-1", sealed) },
	} {
		if got, err := open(); err == nil {
			t.Errorf("%s: opened %q", name, got)
		}
	}
	if _, err := (*cloud.Sealer)(nil).Open("k-1", sealed); !errors.Is(err, cloud.ErrNoKEK) {
		t.Errorf("nil sealer: %v, want ErrNoKEK", err)
	}
	if _, err := cloud.NewSealer([]byte("short")); err == nil {
		t.Error("a 5-byte kek accepted")
	}
}
