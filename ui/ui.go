// Package ui serves the terminal's kiosk web UI and its local JSON API
// (DESIGN.md, "Terminal HTTP API") with Fiber. It knows the counter only
// through the small interfaces below, which the agent's main wires to the
// Desk, the journal, the scanner and the print runner.
package ui

import (
	"context"
	"net/http"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Desk is the part of edge.Desk the UI drives.
type Desk interface {
	Scan(ctx context.Context, req edge.ScanRequest) (edge.Check, int, error)
	Deposit(ctx context.Context, req edge.DepositRequest) (edge.Deposit, error)
	Rules() edge.Rules
	ReceiveInstore(ctx context.Context, req edge.InstoreRequest) (edge.InstoreReturn, error)
	Cancel(ctx context.Context, req edge.CancelRequest) (edge.Cancellation, error)
	Handover(ctx context.Context, req edge.HandoverRequest) (edge.Handover, error)
	Shelf(ctx context.Context, carrier string) (edge.ShelfView, error)
	History(ctx context.Context, q edge.HistoryQuery) (edge.HistoryPage, error)
	DaySummary(ctx context.Context, day string, loc *time.Location) (edge.DaySummary, error)
	MonthStatement(ctx context.Context, month string, loc *time.Location) (edge.MonthStatement, error)
	CloseDay(ctx context.Context, day string, loc *time.Location, operator string) (edge.DaySummary, edge.Operation, error)
}

// Authenticator is the sign-in use case (edge.SignIn): who a PIN is, the
// lockout, and adding staff without telling which PINs are taken.
type Authenticator interface {
	// SignIn returns the account of pin; UNAUTHORIZED or LOCKED.
	SignIn(ctx context.Context, pin string) (edge.Staff, error)
	// Unlock lifts a lock; FORBIDDEN unless role is manager.
	Unlock(ctx context.Context, by, role string) error
	// Status returns the lock in force (zero when none) and the wrong
	// PINs counted.
	Status(ctx context.Context) (lockedUntil time.Time, failures int, err error)
	// AddStaff creates an account; INVALID (a PIN in use among other
	// reasons, not told apart) or LOCKED.
	AddStaff(ctx context.Context, by, name, role, pin string) (edge.Staff, error)
}

// ImageDecoder finds barcodes in a JPEG or PNG frame.
type ImageDecoder interface {
	// Decode returns the symbols found, best first, or an *edge.Error
	// (UNREADABLE, TOO_LARGE).
	Decode(ctx context.Context, data []byte) ([]edge.Symbol, error)
}

// Journal is what the UI reads of the journal.
type Journal interface {
	edge.StaffStore
	Shelf(ctx context.Context) ([]edge.ShelfParcel, error)
	Operations(ctx context.Context, afterSeq uint64, limit int) ([]edge.Operation, error)
	PrintJob(ctx context.Context, id string) (edge.PrintJob, error)
}

// PrintRetrier queues a print job again.
type PrintRetrier interface {
	Retry(ctx context.Context, id string) (edge.PrintJob, error)
}

// Previewer draws what print job bytes print.
type Previewer interface {
	// Preview returns a PNG of data, in format "zpl" or "escpos";
	// EINVALID for bytes it cannot read.
	Preview(format string, data []byte) ([]byte, error)
	// LabelPDF returns an A4 PDF of a ZPL label; EINVALID as Preview.
	LabelPDF(zpl []byte) ([]byte, error)
}

// Weigher reads the counter scale (edge.Weigher).
type Weigher interface {
	// Weigh returns the scale's weighing against maxG (0: no limit);
	// NOT_FOUND when no scale is configured.
	Weigh(maxG int) (edge.Weighing, error)
}

// QREncoder draws a QR code as a PNG of about size pixels a side, at a
// whole number of pixels per module; size 0 draws one pixel per module.
type QREncoder func(text string, size int) ([]byte, error)

// Deps are the collaborators of the Server.
type Deps struct {
	Desk    Desk
	SignIn  Authenticator
	Decoder ImageDecoder
	Journal Journal
	Prints  PrintRetrier
	QR      QREncoder
	// Scale reads the counter scale; nil when the terminal has none (the
	// weight is typed).
	Scale Weigher
	// Preview draws print jobs; nil answers NOT_FOUND for previews.
	Preview Previewer
	// Status returns the JSON document of GET /api/status.
	Status func(ctx context.Context) (any, error)
	// Ready reports an error while the agent cannot take deposits.
	Ready func() error
	// Metrics serves GET /metrics; nil leaves the route out.
	Metrics http.Handler
}
