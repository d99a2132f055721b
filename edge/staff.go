package edge

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Staff roles.
const (
	RoleClerk   = "clerk"
	RoleManager = "manager"
)

// Staff is a member of staff who may use the counter.
type Staff struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	PINHash  string `json:"pin_hash"`
	Disabled bool   `json:"disabled,omitempty"`
}

// StaffStore keeps staff accounts.
type StaffStore interface {
	// ListStaff returns every account.
	ListStaff(ctx context.Context) ([]Staff, error)
	// PutStaff creates or replaces an account.
	PutStaff(ctx context.Context, s Staff) error
}

// pinIterations makes a PIN hash cost tens of milliseconds, so that a copied
// journal does not give up four-digit PINs in an instant. Lockout after wrong
// attempts is what protects the live terminal.
const pinIterations = 200_000

// HashPIN returns a salted PBKDF2-SHA256 hash of pin, in the form
// "pbkdf2-sha256$<iterations>$<salt>$<hash>".
func HashPIN(pin string) (string, error) {
	if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash pin: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash pin: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", pinIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPIN reports whether pin matches hash, in constant time.
func CheckPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// ValidatePIN accepts 4 to 12 digits.
func ValidatePIN(pin string) error {
	if len(pin) < 4 || len(pin) > 12 {
		return Errorf(EINVALID, "A PIN has 4 to 12 digits.")
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return Errorf(EINVALID, "A PIN has digits only.")
		}
	}
	return nil
}

// ValidRole reports whether role is a known staff role.
func ValidRole(role string) bool { return role == RoleClerk || role == RoleManager }
