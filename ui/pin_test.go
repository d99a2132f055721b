package ui

import (
	"testing"

	"github.com/comptoir/comptoir/edge"
	"golang.org/x/crypto/bcrypt"
)

func TestPIN(t *testing.T) {
	h, err := HashPIN("4321")
	if err != nil {
		t.Fatal(err)
	}
	if h[:4] != "$2a$" || !CheckPIN(h, "4321") || CheckPIN(h, "4322") {
		t.Errorf("bcrypt hash %q does not check", h)
	}
	if h2, _ := HashPIN("4321"); h2 == h {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	legacy, err := edge.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPIN(legacy, "2468") || CheckPIN(legacy, "2469") {
		t.Error("an older PBKDF2 hash is not accepted")
	}
	if CheckPIN("", "2468") || CheckPIN("$2a$10$garbage", "2468") {
		t.Error("garbage hash accepted")
	}
	if _, err := HashPIN("12a4"); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("HashPIN of letters: %v", err)
	}
	for _, c := range []struct {
		name string
		h    edge.PINHasher
		cost int
	}{{"PINHasher", PINHasher, PINCost}, {"NewPINHasher(MinCost)", NewPINHasher(bcrypt.MinCost), bcrypt.MinCost}} {
		h, err := c.h.Hash("8642")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := bcrypt.Cost([]byte(h)); err != nil || got != c.cost {
			t.Errorf("%s: hash cost %d (%v), want %d", c.name, got, err, c.cost)
		}
		if !c.h.Check(h, "8642") || c.h.Check(h, "8643") || !CheckPIN(h, "8642") {
			t.Errorf("%s: hash %q does not check", c.name, h)
		}
		if _, err := c.h.Hash("86a2"); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("%s: hash of letters: %v", c.name, err)
		}
	}
	if PINCost < 10 {
		t.Errorf("PINCost %d: below bcrypt's default of 10", PINCost)
	}
}

// BenchmarkCheckPIN is the cost of one sign-in attempt per account: bcrypt
// against the PBKDF2 it replaced.
func BenchmarkCheckPIN(b *testing.B) {
	bc, _ := HashPIN("4321")
	pb, _ := edge.HashPIN("4321")
	for _, bb := range []struct{ name, hash string }{{"bcrypt", bc}, {"pbkdf2", pb}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if !CheckPIN(bb.hash, "4321") {
					b.Fatal("no match")
				}
			}
		})
	}
}
