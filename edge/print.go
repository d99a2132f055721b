package edge

import (
	"context"
	"time"
)

// Printer names: a terminal has one label printer and one receipt printer.
const (
	PrinterLabel   = "label"
	PrinterReceipt = "receipt"
)

// Print job formats.
const (
	FormatZPL    = "zpl"
	FormatESCPOS = "escpos"
)

// Print job states.
const (
	JobPending = "pending" // waiting for its printer, possibly after failures
	JobDone    = "done"    // the printer took every byte
	// JobSending is written durably just before the bytes go out. A job
	// found in it at start was interrupted (crash, power cut) while its
	// bytes were on their way: it may have printed.
	JobSending = "sending"
	// JobHeld is a job interrupted while sending: it is never sent again
	// on its own, so that nothing prints twice; the clerk reprints it
	// (POST /api/print-jobs/{id}/retry) if it did not come out.
	JobHeld = "held"
)

// Printer status reasons, from a printer's own status (a ZPL printer's ~HS
// answer) or from the last attempt.
const (
	PrinterReady       = ""
	PrinterPaperOut    = "paper_out"
	PrinterHeadOpen    = "head_open"
	PrinterPaused      = "paused"
	PrinterUnreachable = "unreachable"
	PrinterFailing     = "failing" // the last attempt failed for another reason
	// PrinterUnchecked is the reason of a printer that is taken to be up
	// because it has been neither asked nor sent a job since the start.
	PrinterUnchecked = "unchecked"
)

// PrinterStatus is what is known of a printer: whether it takes jobs and,
// when not, why, with the jobs waiting for it.
type PrinterStatus struct {
	Printer string `json:"printer"`
	Up      bool   `json:"up"`
	// Reason is one of the Printer* reasons; empty when up, except
	// PrinterUnchecked for a printer not yet asked nor tried.
	Reason    string    `json:"reason,omitempty"`
	Message   string    `json:"message,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Pending counts the jobs waiting for this printer (held ones too),
	// and NextAttempt is when the runner tries the first of them again.
	Pending     int       `json:"pending"`
	Held        int       `json:"held"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// StatusPrinter is a Printer that can say whether it is ready before it is
// sent a job, such as a ZPL printer asked for its host status (~HS).
type StatusPrinter interface {
	Printer
	// Status asks the printer. An error means it could not be asked (it is
	// unreachable); a printer that answered "paper out" is a status with
	// Up false, not an error.
	Status(ctx context.Context) (PrinterStatus, error)
}

// Label is what a carrier label shows.
type Label struct {
	Carrier  string
	Tracking string
	Dest     Address
	RAID     string
	Origin   RelayPoint
	WeightG  int
	Date     time.Time
	Items    int
	// QR is the text of the label's QR code.
	QR string
}

// ReceiptDoc is what a printed proof-of-deposit receipt shows.
type ReceiptDoc struct {
	RelayPoint RelayPoint
	At         time.Time
	Tracking   string
	RAID       string
	WeightG    int
	// Token is the signed receipt, printed as a QR code.
	Token string
	// TimeSynced says At agreed with the cloud's time (Receipt.TimeSynced);
	// a receipt without it says its time was not checked.
	TimeSynced bool
}

// ManifestDoc is what a printed handover manifest shows: the list of parcels
// a carrier's driver takes away, which the driver signs. It prints on the
// receipt printer (ESC/POS), whose paper roll holds any number of parcels.
type ManifestDoc struct {
	ManifestID string
	Carrier    string
	RelayPoint RelayPoint
	At         time.Time
	// DriverRef names the driver or the vehicle, when the clerk typed it.
	DriverRef string
	// Operator is the member of staff who handed the parcels over.
	Operator  string
	Trackings []string
}

// Renderer turns documents into printer bytes.
type Renderer interface {
	// Label returns the ZPL II of l; EINVALID for a tracking number a
	// barcode cannot carry.
	Label(l Label) ([]byte, error)
	// Receipt returns the ESC/POS bytes of r.
	Receipt(r ReceiptDoc) ([]byte, error)
	// Manifest returns the ESC/POS bytes of a handover manifest (print it
	// on PrinterReceipt with FormatESCPOS); EINVALID for a manifest id a
	// barcode cannot carry.
	Manifest(m ManifestDoc) ([]byte, error)
}

// PrintJob is a document queued for a printer. Jobs are journalled with the
// operation that caused them, so a printer that is off never loses a label.
type PrintJob struct {
	ID          string    `json:"id"`
	OperationID string    `json:"operation_id"`
	Printer     string    `json:"printer"`
	Format      string    `json:"format"`
	Data        []byte    `json:"data"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	NextAttempt time.Time `json:"next_attempt"`
}

// Filled returns j with what a journal fills in when it stores a job with
// the operation op: a new id, op's id, the state pending, op's time as
// creation and update times, each where j has none.
func (j PrintJob) Filled(op Operation) PrintJob {
	if j.ID == "" {
		j.ID = newID()
	}
	if j.OperationID == "" {
		j.OperationID = op.ID
	}
	if j.State == "" {
		j.State = JobPending
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = op.OccurredAt
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	return j
}

// Checked returns j as a journal's PutPrintJob stores it: INVALID without
// an id; the state pending and the creation time now when it has none.
func (j PrintJob) Checked(now time.Time) (PrintJob, error) {
	if j.ID == "" {
		return j, Errorf(EINVALID, "A print job needs an id.")
	}
	if j.State == "" {
		j.State = JobPending
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now.UTC()
	}
	return j, nil
}

// PrintQueue is the journal's view of print jobs.
type PrintQueue interface {
	// PendingJobs returns jobs not yet done, oldest first, without their
	// data: a printer out of paper for a day leaves megabytes of labels
	// and receipts in the queue, and the queue is read every round.
	PendingJobs(ctx context.Context) ([]PrintJob, error)
	// PrintJob returns one job; ENOTFOUND if there is none with that id.
	PrintJob(ctx context.Context, id string) (PrintJob, error)
	// PutPrintJob stores a job's new state durably.
	PutPrintJob(ctx context.Context, j PrintJob) error
}

// Printer sends bytes to one physical printer (or a spool directory).
type Printer interface {
	// Print sends data; an error means the job must be tried again.
	Print(ctx context.Context, jobID string, data []byte) error
}
