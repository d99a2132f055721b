package cloud

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/wire"
)

// ReceiptKey is a receipt-signing key a terminal had, with the period it
// was valid: from its enrolment until its decommissioning (zero Until
// while it is in use).
type ReceiptKey struct {
	PublicKey string    `json:"public_key"`
	From      time.Time `json:"from"`
	Until     time.Time `json:"until,omitzero"`
}

// Decommissioned reports whether t is out of service.
func (t Terminal) Decommissioned() bool { return !t.DecommissionedAt.IsZero() }

// ReceiptKeys returns every receipt key t ever had, the current one first,
// then those of its earlier enrolments, newest first.
func (t Terminal) ReceiptKeys() []ReceiptKey {
	keys := make([]ReceiptKey, 0, 1+len(t.PastReceiptKeys))
	keys = append(keys, ReceiptKey{PublicKey: t.ReceiptPublicKey, From: t.EnrolledAt, Until: t.DecommissionedAt})
	return append(keys, t.PastReceiptKeys...)
}

// Succeeding returns t, a new enrolment, as the successor of old, the
// decommissioned record of the same terminal: old's receipt key joins the
// past keys, and nothing else of old is kept.
func (t Terminal) Succeeding(old Terminal) Terminal {
	t.PastReceiptKeys = append([]ReceiptKey{{PublicKey: old.ReceiptPublicKey, From: old.EnrolledAt, Until: old.DecommissionedAt}}, old.PastReceiptKeys...)
	t.DecommissionedAt, t.DecommissionReason = time.Time{}, ""
	return t
}

// TerminalStore is what Fleet needs of the store.
type TerminalStore interface {
	// CreateTerminal enrols t; a decommissioned terminal of the same id is
	// replaced, its receipt keys kept (Succeeding). It returns ECONFLICT if
	// the id is enrolled and in service.
	CreateTerminal(ctx context.Context, t Terminal) error
	// FindTerminal returns terminal id, or ENOTFOUND.
	FindTerminal(ctx context.Context, id string) (Terminal, error)
	// SeqFloor returns the highest seq of terminal id held, 0 for none.
	SeqFloor(ctx context.Context, id string) (uint64, error)
	// DecommissionTerminal records that terminal id was decommissioned at
	// at for reason, removes its password and marks it offline; it returns
	// the terminal as recorded, ENOTFOUND, or ECONFLICT if it already was.
	DecommissionTerminal(ctx context.Context, id string, at time.Time, reason string) (Terminal, error)
}

// BrokerAccounts opens and closes terminals' accounts on the MQTT broker.
type BrokerAccounts interface {
	// RegisterTerminal creates (or replaces) the account of tid with
	// password.
	RegisterTerminal(ctx context.Context, tid, password string) error
	// CloseTerminal makes tid's account unusable and drops its open
	// connection; closing an account that does not exist is no error.
	CloseTerminal(ctx context.Context, tid string) error
}

// Fleet enrols and decommissions terminals.
type Fleet struct {
	Store TerminalStore
	// Accounts keeps the terminals' broker accounts in step; nil when
	// nobody can (an external broker whose accounts the operator keeps).
	Accounts BrokerAccounts
	Now      func() time.Time
	Logger   *slog.Logger
}

// Enrolment is a request to enrol a terminal.
type Enrolment struct {
	ID, Name, ReceiptPublicKey string
}

// MaxReasonBytes bounds a decommissioning reason.
const MaxReasonBytes = 500

// accountTimeout bounds a broker account change.
const accountTimeout = 10 * time.Second

func (f *Fleet) now() time.Time {
	if f.Now == nil {
		return time.Now().UTC()
	}
	return f.Now().UTC()
}

func (f *Fleet) log() *slog.Logger {
	if f.Logger == nil {
		return slog.Default().With("component", "fleet")
	}
	return f.Logger.With("component", "fleet")
}

// Enrolled is what an enrolment gives the terminal: its record, its MQTT
// password (shown once: only its hash is kept) and its seq floor.
type Enrolled struct {
	Terminal Terminal
	Password string
	// SeqFloor is the highest seq the cloud holds of the terminal's id
	// (0 for a new one): a device enrolled in a decommissioned one's place
	// numbers its operations above it, or its first ones would be taken
	// for resends of the old device's and dropped.
	SeqFloor uint64
}

// Enrol registers a terminal and its receipt key and returns it with its
// new MQTT password. A decommissioned terminal may be enrolled again (a
// replacement device) and gets a new password and receipt key, and the
// seq floor above which it numbers its operations. It returns EINVALID
// for a bad id, key or name, ECONFLICT for a terminal in service,
// EUNAVAILABLE when the broker account cannot be created.
func (f *Fleet) Enrol(ctx context.Context, e Enrolment) (Enrolled, error) {
	if !wire.ValidTerminalID(e.ID) {
		return Enrolled{}, edge.Errorf(edge.EINVALID, "A terminal id is 3 to 64 lower-case letters, digits and dashes.")
	}
	if _, err := token.DecodePublicKey(e.ReceiptPublicKey); err != nil {
		return Enrolled{}, edge.Errorf(edge.EINVALID, "receipt_public_key must be the terminal's Ed25519 public key, base64url.")
	}
	if e.Name == "" {
		e.Name = e.ID
	}
	if len(e.Name) > 200 {
		return Enrolled{}, edge.Errorf(edge.EINVALID, "The name is longer than 200 bytes.")
	}
	password := RandomSecret(32)
	t := Terminal{
		ID: e.ID, Name: e.Name, ReceiptPublicKey: e.ReceiptPublicKey,
		PasswordHash: HashSecret(password), EnrolledAt: f.now(),
	}
	if f.Accounts != nil {
		// The broker account first, so that an enrolled terminal can
		// always connect; a terminal in service keeps its account.
		if old, err := f.Store.FindTerminal(ctx, t.ID); err == nil && !old.Decommissioned() {
			return Enrolled{}, edge.Errorf(edge.ECONFLICT, "Terminal %q is already enrolled.", t.ID)
		} else if err != nil && edge.ErrorCode(err) != edge.ENOTFOUND {
			return Enrolled{}, err
		}
		actx, cancel := context.WithTimeout(ctx, accountTimeout)
		defer cancel()
		if err := f.Accounts.RegisterTerminal(actx, t.ID, password); err != nil {
			f.log().Error("broker account", "terminal", t.ID, "err", err)
			return Enrolled{}, edge.Errorf(edge.EUNAVAILABLE, "The terminal's account could not be created on the MQTT broker; try again.")
		}
	}
	if err := f.Store.CreateTerminal(ctx, t); err != nil {
		return Enrolled{}, err
	}
	floor, err := f.Store.SeqFloor(ctx, t.ID)
	if err != nil {
		return Enrolled{}, err
	}
	f.log().Info("terminal enrolled", "terminal", t.ID, "seq_floor", floor)
	return Enrolled{Terminal: t, Password: password, SeqFloor: floor}, nil
}

// CheckReason returns the reason of a decommissioning, trimmed, or
// EINVALID when it is empty, too long or not UTF-8 text.
func CheckReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", edge.Errorf(edge.EINVALID, "A reason is required to decommission a terminal.")
	case len(reason) > MaxReasonBytes:
		return "", edge.Errorf(edge.EINVALID, "The reason is longer than %d bytes.", MaxReasonBytes)
	case !utf8.ValidString(reason) || strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", edge.Errorf(edge.EINVALID, "The reason must be UTF-8 text without control characters.")
	}
	return reason, nil
}

// Decommission takes terminal tid out of service: it records when and why,
// which removes its password, then closes its broker account, which drops
// its open connection. Receipts it signs afterwards do not verify
// (Receipts). Decommissioning it again answers ECONFLICT, after closing
// the account again (in case the broker could not be reached the first
// time). It returns EINVALID for a bad reason, ENOTFOUND, and EUNAVAILABLE
// when the broker account could not be closed (the registry has recorded
// the decommissioning: a retry closes it).
func (f *Fleet) Decommission(ctx context.Context, tid, reason string) (Terminal, error) {
	reason, err := CheckReason(reason)
	if err != nil {
		return Terminal{}, err
	}
	// The registry first: from then on the embedded broker refuses the
	// password, so the terminal cannot come back between the two steps.
	t, err := f.Store.DecommissionTerminal(ctx, tid, f.now(), reason)
	conflict := edge.ErrorCode(err) == edge.ECONFLICT
	if err != nil && !conflict {
		return Terminal{}, err
	}
	if f.Accounts != nil {
		actx, cancel := context.WithTimeout(ctx, accountTimeout)
		defer cancel()
		if aerr := f.Accounts.CloseTerminal(actx, tid); aerr != nil {
			f.log().Error("close broker account", "terminal", tid, "err", aerr)
			return Terminal{}, edge.Errorf(edge.EUNAVAILABLE, "The terminal is decommissioned but its MQTT account could not be closed; try again.")
		}
	} else {
		f.log().Warn("terminal decommissioned; its account on the external broker must be closed by hand", "terminal", tid)
	}
	if conflict {
		return Terminal{}, err
	}
	f.log().Info("terminal decommissioned", "terminal", tid, "reason", reason)
	return t, nil
}
