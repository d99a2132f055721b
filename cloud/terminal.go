package cloud

import (
	"encoding/json"
	"time"

	"github.com/comptoir/comptoir/sync/wire"
)

// Terminal is an enrolled terminal as the fleet registry knows it.
type Terminal struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// ReceiptPublicKey is the terminal's Ed25519 receipt-signing key,
	// base64url (token.EncodePublicKey).
	ReceiptPublicKey string `json:"receipt_public_key"`
	// PasswordHash is the SHA-256 of the terminal's MQTT password
	// (HashSecret); the password itself is only ever shown at enrolment.
	PasswordHash []byte    `json:"password_hash"`
	EnrolledAt   time.Time `json:"enrolled_at"`

	// Status is the last status message the terminal published while
	// online (wire.Status), kept as received.
	Status   json.RawMessage `json:"status,omitempty"`
	Online   bool            `json:"online"`
	LastSeen time.Time       `json:"last_seen,omitzero"`

	// AckedSeq is the highest seq up to which every event of the terminal
	// is stored. Stores fill it in when they return a terminal.
	AckedSeq uint64 `json:"acked_seq"`

	// DecommissionedAt is when the terminal was decommissioned (zero while
	// it is in service), and DecommissionReason why. A decommissioned
	// terminal has no password: its MQTT account is closed.
	DecommissionedAt   time.Time `json:"decommissioned_at,omitzero"`
	DecommissionReason string    `json:"decommission_reason,omitempty"`
	// PastReceiptKeys are the receipt keys of the terminal's earlier
	// enrolments, newest first, each with the period it was valid, so that
	// the receipts they signed stay verifiable after a re-enrolment.
	PastReceiptKeys []ReceiptKey `json:"past_receipt_keys,omitempty"`
}

// WireStatus decodes t.Status; a terminal that has sent none yet gives the
// zero Status.
func (t Terminal) WireStatus() wire.Status {
	var s wire.Status
	if len(t.Status) > 0 {
		_ = json.Unmarshal(t.Status, &s) // checked when it was received
	}
	return s
}

// StatusUpdate is what a status message changes in the registry.
type StatusUpdate struct {
	Online bool
	// Status is the raw status payload; nil for a last will, which only
	// marks the terminal offline and keeps the last status it sent.
	Status json.RawMessage
	// SeenAt is when the terminal was last heard from; a zero SeenAt leaves
	// last_seen as it is.
	SeenAt time.Time
}

// DeadLetter is a message the ingest could not take: malformed, of an
// unknown protocol version, naming another terminal than its topic's, or
// an invalid status. NewDeadLetter bounds it.
type DeadLetter struct {
	// ID is the dead letter's cursor in the listing, set by the store.
	ID       string    `json:"id"`
	Terminal string    `json:"terminal"`
	Topic    string    `json:"topic"`
	Reason   string    `json:"reason"` // a wire error code: MALFORMED, UNKNOWN_VERSION, TOO_LARGE, WRONG_TERMINAL, or INVALID_STATUS
	Message  string    `json:"message"`
	Payload  []byte    `json:"payload"`
	At       time.Time `json:"at"`
	// Size is the payload's size as received, SHA256 its hash (hex), and
	// Truncated whether Payload keeps only its first MaxDeadLetterPayload
	// bytes.
	Size      int    `json:"size"`
	SHA256    string `json:"sha256"`
	Truncated bool   `json:"truncated"`
}

// Ingested is the outcome of storing a batch of events.
type Ingested struct {
	// Stored counts the events stored now, Duplicates those that were
	// already stored (by event id or by terminal and seq).
	Stored, Duplicates int
	// AckedSeq is the terminal's watermark after the batch.
	AckedSeq uint64
	// Conflicts are the events of the batch (or stored before it, above a
	// gap it filled) that disagreed with their parcel: stored, acked, but
	// kept off the timeline.
	Conflicts []Conflict
}
