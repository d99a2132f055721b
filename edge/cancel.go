package edge

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Error codes of deposits that have left the shelf (HTTP 409).
const (
	EHANDEDOVER = "ALREADY_HANDED_OVER" // the carrier has the parcel
	ECANCELLED  = "ALREADY_CANCELLED"   // the deposit was cancelled before
	ENOTONSHELF = "NOT_ON_SHELF"        // no deposit of that tracking on the shelf
)

// CancelRequest undoes a mistaken deposit.
type CancelRequest struct {
	DepositID string
	Reason    string
	Operator  string
	// Role is the operator's role: a clerk may cancel within the grace
	// window only, a manager later too.
	Role string
}

// Cancellation is the outcome of an accepted cancellation.
type Cancellation struct {
	Operation Operation
	Data      CancelledData
	Parcel    ShelfParcel
}

// maxReasonLen bounds the free text of a cancellation.
const maxReasonLen = 200

// Cancel journals return.cancelled for a deposit still on the shelf, which
// takes it off the shelf. It returns NOT_FOUND for an unknown deposit,
// ALREADY_HANDED_OVER once the carrier has it, ALREADY_CANCELLED for a second
// cancellation, and FORBIDDEN when a clerk cancels after the grace window
// (Rules.CancelGrace), which only a manager may do; INVALID_TEXT for a
// reason with control characters (CheckText).
func (d *Desk) Cancel(ctx context.Context, req CancelRequest) (Cancellation, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.DepositID == "" {
		return Cancellation{}, Errorf(EINVALID, "Which deposit? The deposit id is missing.")
	}
	if len(req.Reason) > maxReasonLen {
		return Cancellation{}, Errorf(EINVALID, "The reason is over %d characters.", maxReasonLen)
	}
	if err := CheckText("reason", req.Reason); err != nil {
		return Cancellation{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()

	rec, err := d.Journal.DepositByID(ctx, req.DepositID)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Cancellation{}, Errorf(ENOTFOUND, "No deposit with id %q.", req.DepositID)
		}
		return Cancellation{}, fmt.Errorf("cancel: %w", err)
	}
	switch rec.State {
	case DepositHandedOver:
		return Cancellation{}, Errorf(EHANDEDOVER, "Parcel %s was handed to the carrier: it can no longer be cancelled.", rec.Parcel.Tracking)
	case DepositCancelled:
		return Cancellation{}, Errorf(ECANCELLED, "This deposit of %s was cancelled already.", rec.Parcel.Tracking)
	}
	now := d.now()
	if grace := d.rules.CancelGrace; req.Role != RoleManager && now.Sub(rec.Parcel.DepositedAt) > grace {
		return Cancellation{}, Errorf(EFORBIDDEN, "Over %s since the deposit: only a manager may cancel it now.", fmtDuration(grace))
	}

	data := CancelledData{DepositID: rec.Parcel.DepositID, Reason: req.Reason}
	op := NewOperation(OpReturnCancelled, now, req.Operator, rec.Parcel.Tracking, data)
	op.ID = newID()
	op, err = d.Journal.Append(ctx, op)
	if err != nil {
		return Cancellation{}, fmt.Errorf("cancel: %w", err)
	}
	d.appended(op)
	return Cancellation{Operation: op, Data: data, Parcel: rec.Parcel}, nil
}

// fmtDuration writes d as a clerk reads it: "15 min", "2 h", "90 s".
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", int(d.Seconds()))
}
