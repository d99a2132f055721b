package cloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of what a dead letter keeps.
const (
	// MaxDeadLetterPayload is how much of a refused payload is kept.
	MaxDeadLetterPayload = 4 << 10
	// maxDeadLetterMessage bounds the explanation kept with it.
	maxDeadLetterMessage = 1 << 10
)

// Default limits of the dead letters (DeadLetterLimits).
const (
	DefaultDeadLettersPerTerminal = 1000
	DefaultDeadLetterMaxAge       = 30 * 24 * time.Hour
)

// NewDeadLetter returns the dead letter of a message refused for reason:
// the payload is cut to MaxDeadLetterPayload bytes, its size and SHA-256
// recorded, and the message cut to 1 KiB, so that a flood of large
// messages cannot fill the store.
func NewDeadLetter(tid, topic, reason, message string, payload []byte, at time.Time) DeadLetter {
	sum := sha256.Sum256(payload)
	d := DeadLetter{
		Terminal: tid, Topic: topic, Reason: reason, Message: cut(message, maxDeadLetterMessage),
		Size: len(payload), SHA256: hex.EncodeToString(sum[:]), At: at.UTC(),
	}
	kept := payload
	if len(kept) > MaxDeadLetterPayload {
		kept, d.Truncated = kept[:MaxDeadLetterPayload], true
	}
	d.Payload = bytes.Clone(kept) // not an alias of a large buffer
	return d
}

// cut returns s shortened to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "")
}

// DeadLetterLimits bound the dead letters kept: at most PerTerminal of each
// terminal (the oldest dropped beyond), none older than MaxAge.
type DeadLetterLimits struct {
	PerTerminal int
	MaxAge      time.Duration
}

// WithDefaults returns l with zero fields set to their defaults.
func (l DeadLetterLimits) WithDefaults() DeadLetterLimits {
	if l.PerTerminal <= 0 {
		l.PerTerminal = DefaultDeadLettersPerTerminal
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultDeadLetterMaxAge
	}
	return l
}

// DeadLetterStore is what DeadLetterBox needs of the store.
type DeadLetterStore interface {
	// AddDeadLetter keeps d.
	AddDeadLetter(ctx context.Context, d DeadLetter) error
	// PruneDeadLetters removes the dead letters older than before, and
	// those of terminal beyond its keep newest; it returns how many it
	// removed.
	PruneDeadLetters(ctx context.Context, terminal string, keep int, before time.Time) (int, error)
}

// DeadLetterBox keeps the ingest's dead letters within their limits.
type DeadLetterBox struct {
	Store  DeadLetterStore
	Limits DeadLetterLimits
	Now    func() time.Time
}

// Keep stores d (made by NewDeadLetter), then drops what is beyond the
// limits: the terminal's oldest over its cap, and every dead letter past
// the age limit. Expired dead letters thus go when the next one arrives.
func (b DeadLetterBox) Keep(ctx context.Context, d DeadLetter) error {
	l := b.Limits.WithDefaults()
	if err := b.Store.AddDeadLetter(ctx, d); err != nil {
		return err
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	if _, err := b.Store.PruneDeadLetters(ctx, d.Terminal, l.PerTerminal, now().Add(-l.MaxAge)); err != nil {
		return fmt.Errorf("dead letters: prune: %w", err)
	}
	return nil
}

// DeadLetterPage cuts ds, up to limit+1 dead letters read in order, to a
// page of limit and its next cursor: the ID of its last when more follow,
// "" otherwise. Stores read one more than asked to know.
func DeadLetterPage(ds []DeadLetter, limit int) (page []DeadLetter, next string) {
	if len(ds) <= limit {
		return ds, ""
	}
	page = ds[:limit]
	if limit > 0 {
		next = page[limit-1].ID
	}
	return page, next
}
