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
// "pbkdf2-sha256$<iterations>$<salt>$<hash>". New accounts no longer use
// it: AddStaff takes a PINHasher, bcrypt in the agent (ui.PINHasher); it
// stays, with CheckPIN, for the accounts created before.
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

// PINHasher hashes and checks PINs. The hash is a slow password hash
// (bcrypt) from an adapter, since edge imports the standard library only;
// HashPIN and CheckPIN above remain as the verifier of older PBKDF2 hashes.
type PINHasher struct {
	Hash  func(pin string) (string, error)
	Check func(hash, pin string) bool
}

// ErrPINTaken is AddStaff's CONFLICT for a PIN an enabled account has.
// Only the owner of the data directory (the staff command) may see it: the
// kiosk goes through SignIn.AddStaff, which does not tell.
var ErrPINTaken = Errorf(ECONFLICT, "This PIN is taken: choose another.")

// MinManagerPIN is the least number of digits of a new manager's PIN: a
// manager may cancel, close days and add staff, so their PIN must hold out
// longer than a clerk's four digits.
const MinManagerPIN = 6

// AddStaff creates an enabled account. It returns INVALID_TEXT for a name
// with control characters (CheckText), INVALID for an empty name, an
// unknown role, a malformed PIN or a manager's PIN shorter than
// MinManagerPIN, and ErrPINTaken when an enabled account has the same PIN
// already: sign-in finds staff by PIN alone, so two of them with one PIN
// could not be told apart.
func AddStaff(ctx context.Context, store StaffStore, h PINHasher, name, role, pin string) (Staff, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > 100:
		return Staff{}, Errorf(EINVALID, "A member of staff needs a name of 1 to 100 characters.")
	case !ValidRole(role):
		return Staff{}, Errorf(EINVALID, "The role is clerk or manager, not %q.", role)
	}
	if err := CheckText("name", name); err != nil {
		return Staff{}, err
	}
	if err := ValidatePIN(pin); err != nil {
		return Staff{}, err
	}
	if role == RoleManager && len(pin) < MinManagerPIN {
		return Staff{}, Errorf(EINVALID, "A manager's PIN has at least %d digits.", MinManagerPIN)
	}
	all, err := store.ListStaff(ctx)
	if err != nil {
		return Staff{}, fmt.Errorf("add staff: %w", err)
	}
	for _, s := range all {
		if !s.Disabled && h.Check(s.PINHash, pin) {
			return Staff{}, ErrPINTaken
		}
	}
	hash, err := h.Hash(pin)
	if err != nil {
		return Staff{}, fmt.Errorf("add staff: %w", err)
	}
	st := Staff{ID: newID(), Name: name, Role: role, PINHash: hash}
	if err := store.PutStaff(ctx, st); err != nil {
		return Staff{}, fmt.Errorf("add staff: %w", err)
	}
	return st, nil
}

// DisableStaff disables the account id (found by id or, failing that, by
// its exact name). It returns NOT_FOUND for no such account, and CONFLICT
// when it is the last enabled manager, who alone could undo it.
func DisableStaff(ctx context.Context, store StaffStore, id string) (Staff, error) {
	all, err := store.ListStaff(ctx)
	if err != nil {
		return Staff{}, fmt.Errorf("disable staff: %w", err)
	}
	var byID, byName []Staff
	managers := 0
	for _, s := range all {
		switch {
		case s.ID == id:
			byID = append(byID, s)
		case s.Name == id:
			byName = append(byName, s)
		}
		if s.Role == RoleManager && !s.Disabled {
			managers++
		}
	}
	found := byID
	if len(found) == 0 {
		found = byName
	}
	switch {
	case len(found) == 0:
		return Staff{}, Errorf(ENOTFOUND, "No member of staff %q.", id)
	case len(found) > 1:
		return Staff{}, Errorf(ECONFLICT, "Several members of staff are called %q: give the id.", id)
	}
	st := found[0]
	if st.Disabled {
		return st, nil
	}
	if st.Role == RoleManager && managers <= 1 {
		return Staff{}, Errorf(ECONFLICT, "%s is the last manager: add another manager first.", st.Name)
	}
	st.Disabled = true
	if err := store.PutStaff(ctx, st); err != nil {
		return Staff{}, fmt.Errorf("disable staff: %w", err)
	}
	return st, nil
}
