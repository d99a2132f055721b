package ui

import (
	"strings"

	"github.com/comptoir/comptoir/edge"
	"golang.org/x/crypto/bcrypt"
)

// PINCost is the bcrypt cost of PIN hashes (10): about 50 ms on a laptop
// core, a few times that on the terminal, so that a copied journal does not
// give up four-digit PINs in an instant; the lockout protects the live
// terminal. Sign-in checks every account's hash, so more would be felt.
const PINCost = bcrypt.DefaultCost

// HashPIN returns the bcrypt hash of pin at PINCost; INVALID for a
// malformed PIN.
func HashPIN(pin string) (string, error) { return hashPIN(pin, PINCost) }

func hashPIN(pin string, cost int) (string, error) {
	if err := edge.ValidatePIN(pin); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPIN reports whether pin matches hash: a bcrypt hash, or a PBKDF2
// hash of an account created before PINs moved to bcrypt.
func CheckPIN(hash, pin string) bool {
	if strings.HasPrefix(hash, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pin)) == nil
	}
	return edge.CheckPIN(hash, pin)
}

// PINHasher is the edge.PINHasher of this package.
var PINHasher = edge.PINHasher{Hash: HashPIN, Check: CheckPIN}

// NewPINHasher returns a PINHasher whose new hashes have the given bcrypt
// cost (from bcrypt.MinCost). Checking reads a hash's cost from the hash.
// For tests that create many accounts, where PINCost under the race
// detector takes seconds a hash: the agent uses PINHasher.
func NewPINHasher(cost int) edge.PINHasher {
	return edge.PINHasher{Hash: func(pin string) (string, error) { return hashPIN(pin, cost) }, Check: CheckPIN}
}
