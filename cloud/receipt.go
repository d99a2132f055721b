package cloud

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// Reasons a receipt is not valid (ReceiptCheck.Reason).
const (
	// ReceiptCancelled: the deposit of the receipt was cancelled.
	ReceiptCancelled = "CANCELLED"
	// ReceiptDecommissioned: the receipt is dated after its terminal's key
	// was retired by a decommissioning.
	ReceiptDecommissioned = "TERMINAL_DECOMMISSIONED"
	// ReceiptBadSignature: no key the terminal ever had signed it, or it
	// is signed but is not a receipt.
	ReceiptBadSignature = "BAD_SIGNATURE"
	// ReceiptUnknownTerminal: its kid names no terminal ever enrolled.
	ReceiptUnknownTerminal = "UNKNOWN_TERMINAL"
	// ReceiptMalformed: the text is not a signed token at all.
	ReceiptMalformed = "MALFORMED"
)

// ReceiptStore is what Receipts needs of the store.
type ReceiptStore interface {
	// FindTerminal returns terminal id, or ENOTFOUND.
	FindTerminal(ctx context.Context, id string) (Terminal, error)
	// Timeline returns the timeline of tracking in scope, empty when
	// unknown (in the network's scope).
	Timeline(ctx context.Context, scope Scope, tracking string) ([]TimelineEntry, error)
}

// Receipts verifies proof-of-deposit receipts.
type Receipts struct {
	Store ReceiptStore
}

// ReceiptCheck is the outcome of a verification.
type ReceiptCheck struct {
	Valid bool
	// Reason is one of the Receipt... codes when the receipt is not valid.
	Reason string
	// Terminal is the terminal that signed the receipt, and Receipt its
	// claims, once its signature is known to be genuine (also when it is
	// refused for a cancellation or a decommissioning).
	Terminal string
	Receipt  *edge.Receipt
	// Status is the last status of the parcel's timeline, empty when it
	// has none or the receipt's signature is not genuine.
	Status Status
}

// Verify checks tok against the receipt keys its terminal (its kid) ever
// had: the key that verifies it must have been in service at the
// receipt's time, and the deposit must not have been cancelled since. A
// receipt that is not valid is a normal answer, with its reason; the
// error is for a store that fails.
func (r Receipts) Verify(ctx context.Context, tok string) (ReceiptCheck, error) {
	kid, ok := receiptKid(tok)
	if !ok {
		return ReceiptCheck{Reason: ReceiptMalformed}, nil
	}
	t, err := r.Store.FindTerminal(ctx, kid)
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return ReceiptCheck{Reason: ReceiptUnknownTerminal}, nil
	} else if err != nil {
		return ReceiptCheck{}, err
	}
	rec, periods, ok := verifyWithKeys(tok, t.ReceiptKeys())
	if !ok {
		return ReceiptCheck{Reason: ReceiptBadSignature}, nil
	}
	c := ReceiptCheck{Valid: true, Terminal: t.ID, Receipt: &rec}
	// The network's scope: whoever holds a genuine receipt may learn
	// where its parcel stands, whichever merchant's it is.
	tl, err := r.Store.Timeline(ctx, Network, rec.Tracking)
	if err != nil {
		return ReceiptCheck{}, err
	}
	if len(tl) > 0 {
		c.Status = tl[len(tl)-1].Status
	}
	switch {
	case retired(periods, rec.At):
		c.Valid, c.Reason = false, ReceiptDecommissioned
	case depositCancelled(tl, t.ID, rec.At):
		c.Valid, c.Reason = false, ReceiptCancelled
	}
	return c, nil
}

// receiptKid returns the kid of a token that has the shape of a signed
// token (three base64url parts, a JSON header naming a kid); ok is false
// for anything else.
func receiptKid(tok string) (kid string, ok bool) {
	if len(tok) > token.MaxTokenSize {
		return "", false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	for _, p := range parts[1:] {
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return "", false
		}
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hb, &h); err != nil || h.Kid == "" {
		return "", false
	}
	return h.Kid, true
}

// verifyWithKeys returns the claims of tok and the periods of the key
// that verifies it (one per enrolment with that key: a terminal enrolled
// again from the same data directory keeps its key), trying each key once;
// ok is false when none verifies it.
func verifyWithKeys(tok string, keys []ReceiptKey) (rec edge.Receipt, periods []ReceiptKey, ok bool) {
	tried := map[string]bool{}
	for _, k := range keys {
		if tried[k.PublicKey] {
			continue
		}
		tried[k.PublicKey] = true
		pub, err := token.DecodePublicKey(k.PublicKey)
		if err != nil {
			continue // not a key: it verifies nothing
		}
		lookup := func(string) (ed25519.PublicKey, bool) { return pub, true }
		if r, err := token.VerifyReceipt(lookup, tok); err == nil {
			for _, p := range keys {
				if p.PublicKey == k.PublicKey {
					periods = append(periods, p)
				}
			}
			return r, periods, true
		}
	}
	return edge.Receipt{}, nil, false
}

// retired reports whether a receipt dated at falls outside the periods of
// its key, given newest first: the period that covers it is the newest
// one begun at or before at (the oldest, for a receipt dated before any: a
// terminal's clock may run a little behind the cloud's), and the receipt
// is refused when that period ended before at.
func retired(periods []ReceiptKey, at time.Time) bool {
	if len(periods) == 0 {
		return false
	}
	cover := periods[len(periods)-1]
	for _, p := range periods {
		if !p.From.After(at) {
			cover = p
			break
		}
	}
	return !cover.Until.IsZero() && at.After(cover.Until)
}

// depositCancelled reports whether the deposit of a receipt of terminal
// tid made at at was cancelled: in the timeline, the terminal's last
// deposit not after the receipt's second is followed, before any later
// deposit, by the terminal's cancellation. A deposit the cloud has not
// heard of yet is not cancelled.
//
// The parcel's state (issue 13, its other part) will answer this directly;
// until then the timeline does.
func depositCancelled(tl []TimelineEntry, tid string, at time.Time) bool {
	source := TerminalSource(tid)
	cancelled, found := false, false
	for _, e := range tl {
		if e.Source != source {
			continue
		}
		switch {
		case e.Status == StatusDeposited && e.OccurredAt.Before(at.Add(time.Second)):
			found, cancelled = true, false
		case e.Status == StatusDeposited && found:
			return cancelled // a later deposit: the receipt's one is settled
		case e.Status == StatusCancelled && found:
			cancelled = true
		}
	}
	return cancelled
}
