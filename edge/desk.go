package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Desk carries out the counter's use cases: check a code, deposit a parcel.
// Its fields are set once by the wiring code before the first call.
type Desk struct {
	RelayPoint RelayPoint
	Journal    Journal
	Codes      CodeReader
	Signer     ReceiptSigner
	Renderer   Renderer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TimeSynced reports whether Now agrees with the cloud's time
	// (edge.TrustedClock.Synced); receipts say it. Not synced when nil.
	TimeSynced func() bool
	// Appended, when set, is called after every durable append so that the
	// print runner and the uplink wake up at once instead of on their timer.
	Appended func(Operation)

	rules Rules
	// mu serialises deposits: the duplicate check, the choice of a shelf slot
	// and the append must see one another's results. Deposits at one counter
	// come seconds apart, so this costs nothing in practice.
	mu sync.Mutex
	// recent keeps a refusal of one code from being journalled again and
	// again (Scan).
	recent recentRefusals
}

// NewDesk returns a Desk applying rules.
func NewDesk(rules Rules) *Desk {
	return &Desk{rules: rules}
}

// Rules returns the counter rules in force.
func (d *Desk) Rules() Rules {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rules
}

// SetRules replaces the counter rules, for instance on a config.set command.
func (d *Desk) SetRules(r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rules = r
	return nil
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Check is the counter's verdict on a scanned code before the parcel is
// weighed.
type Check struct {
	Kind     CodeKind      `json:"kind"`
	Eligible bool          `json:"eligible"`
	Refusals []RefusalCode `json:"refusals"`
	Code     Code          `json:"code"`
}

// Check reads and verifies text and applies the rules that need no parcel.
// A refused code is a Check with Eligible false, not an error; the error is
// for failures of the terminal itself.
func (d *Desk) Check(ctx context.Context, text string) (Check, error) {
	d.mu.Lock()
	rules := d.rules
	d.mu.Unlock()
	return d.check(ctx, rules, text)
}

func (d *Desk) check(ctx context.Context, rules Rules, text string) (Check, error) {
	code, err := d.Codes.Read(ctx, text)
	if code.Digest == "" {
		code.Digest = Digest(text)
	}
	if err != nil {
		refusals := Refusals(err)
		if len(refusals) == 0 {
			return Check{}, fmt.Errorf("desk check: %w", err)
		}
		return Check{Kind: code.Kind, Refusals: refusals, Code: code}, nil
	}
	refusals := rules.CheckCode(code)
	raID := ""
	if code.RA != nil {
		raID = code.RA.ID
	}
	if _, found, err := d.Journal.FindDeposit(ctx, raID, code.Tracking); err != nil {
		return Check{}, fmt.Errorf("desk check: %w", err)
	} else if found {
		refusals = append(refusals, Duplicate)
	} else if raID != "" {
		// A return taken back in a store is not on any shelf.
		if done, err := d.Journal.InstoreReceived(ctx, raID); err != nil {
			return Check{}, fmt.Errorf("desk check: %w", err)
		} else if done {
			refusals = append(refusals, Duplicate)
		}
	}
	return Check{Kind: code.Kind, Eligible: len(refusals) == 0, Refusals: refusals, Code: code}, nil
}

// DepositRequest is a parcel presented at the counter.
type DepositRequest struct {
	Code     string
	WeightG  int
	DimsMM   []int
	Operator string
}

// Deposit is the outcome of an accepted deposit.
type Deposit struct {
	Operation    Operation
	Data         DepositData
	Receipt      Receipt
	ReceiptToken string
	LabelJob     string
	ReceiptJob   string
}

// Deposit checks the code and the parcel, and on success journals
// return.deposited with its label and receipt print jobs in one durable write.
// A refusal journals return.refused and returns an *Error carrying every
// refusal code; its Code is the first of them.
func (d *Desk) Deposit(ctx context.Context, req DepositRequest) (Deposit, error) {
	if err := ValidateParcel(req.WeightG, req.DimsMM); err != nil {
		return Deposit{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rules := d.rules

	chk, err := d.check(ctx, rules, req.Code)
	if err != nil {
		return Deposit{}, err
	}
	refusals := chk.Refusals
	if chk.Code.Kind != "" && len(refusals) == 0 {
		refusals = append(refusals, rules.CheckParcel(chk.Code, req.WeightG, req.DimsMM)...)
	}
	var slot string
	if len(refusals) == 0 {
		taken, err := d.Journal.ShelfSlots(ctx)
		if err != nil {
			return Deposit{}, fmt.Errorf("deposit: %w", err)
		}
		if slot = freeSlot(taken, rules.ShelfCapacity); slot == "" {
			refusals = append(refusals, ShelfFull)
		}
	}
	if len(refusals) > 0 {
		return Deposit{}, d.refuse(ctx, req.Operator, chk.Code, refusals)
	}
	return d.deposit(ctx, req, chk.Code, slot)
}

func (d *Desk) deposit(ctx context.Context, req DepositRequest, code Code, slot string) (Deposit, error) {
	now := d.now().UTC()
	opID, receiptID := newID(), newID()
	data := DepositData{
		Carrier: code.Carrier, Verified: code.Verified, Mode: code.Mode,
		WeightG: req.WeightG, DimsMM: req.DimsMM, ReceiptID: receiptID, ShelfSlot: slot,
	}
	label := Label{
		Carrier: code.Carrier, Tracking: code.Tracking, Origin: d.RelayPoint,
		WeightG: req.WeightG, Date: now, QR: code.Tracking,
	}
	if ra := code.RA; ra != nil {
		data.RAID, data.Issuer, data.Items = ra.ID, ra.Issuer, ra.Items
		label.RAID, label.Dest = ra.ID, ra.Dest
		for _, it := range ra.Items {
			label.Items += it.Qty
		}
	}
	receipt := Receipt{
		ID: receiptID, Tracking: code.Tracking, RAID: data.RAID,
		RelayPoint: d.RelayPoint.ID, At: now, WeightG: req.WeightG, Parcels: 1,
		TimeSynced: d.TimeSynced != nil && d.TimeSynced(),
	}
	token, err := d.Signer.SignReceipt(receipt)
	if err != nil {
		return Deposit{}, fmt.Errorf("deposit: sign receipt: %w", err)
	}

	var jobs []PrintJob
	if code.Mode != ModePrelabelled {
		zpl, err := d.Renderer.Label(label)
		if err != nil {
			return Deposit{}, fmt.Errorf("deposit: render label: %w", err)
		}
		jobs = append(jobs, newJob(opID, PrinterLabel, FormatZPL, zpl, now))
	}
	escpos, err := d.Renderer.Receipt(ReceiptDoc{
		RelayPoint: d.RelayPoint, At: now, Tracking: code.Tracking,
		RAID: data.RAID, WeightG: req.WeightG, Token: token, TimeSynced: receipt.TimeSynced,
	})
	if err != nil {
		return Deposit{}, fmt.Errorf("deposit: render receipt: %w", err)
	}
	jobs = append(jobs, newJob(opID, PrinterReceipt, FormatESCPOS, escpos, now))

	op := NewOperation(OpReturnDeposited, now, req.Operator, code.Tracking, data)
	op.ID = opID
	op, err = d.Journal.Append(ctx, op, jobs...)
	if err != nil {
		return Deposit{}, fmt.Errorf("deposit: %w", err)
	}
	d.appended(op)

	dep := Deposit{Operation: op, Data: data, Receipt: receipt, ReceiptToken: token}
	for _, j := range jobs {
		if j.Printer == PrinterLabel {
			dep.LabelJob = j.ID
		} else {
			dep.ReceiptJob = j.ID
		}
	}
	return dep, nil
}

func (d *Desk) appended(op Operation) {
	if d.Appended != nil {
		d.Appended(op)
	}
}

func newJob(opID, printer, format string, data []byte, now time.Time) PrintJob {
	return PrintJob{
		ID: newID(), OperationID: opID, Printer: printer, Format: format, Data: data,
		State: JobPending, CreatedAt: now, UpdatedAt: now, NextAttempt: now,
	}
}

// freeSlot returns the lowest shelf slot number not taken, or "" when the
// shelf holds capacity parcels already.
func freeSlot(slots []string, capacity int) string {
	if len(slots) >= capacity {
		return ""
	}
	taken := make(map[string]bool, len(slots))
	for _, s := range slots {
		taken[s] = true
	}
	for i := 1; ; i++ {
		if s := fmt.Sprintf("%03d", i); !taken[s] {
			return s
		}
	}
}

// newID returns a UUID v7: time-ordered, so ids sort as they were made.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// NewID returns a new UUID v7 string.
func NewID() string { return newID() }

// Digest returns a short, non-reversible digest of a scanned text.
func Digest(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// RefusalMessage returns the clerk's message for a refusal code.
func RefusalMessage(c RefusalCode) string {
	if m, ok := refusalMessages[c]; ok {
		return m
	}
	return "Refused: " + strconv.Quote(string(c)) + "."
}

var refusalMessages = map[RefusalCode]string{
	Unreadable:     "The code could not be read.",
	UnknownFormat:  "This is not a return code or a tracking number.",
	BadSignature:   "The return code is not genuine (bad signature).",
	UnknownIssuer:  "The return code comes from an issuer this counter does not trust.",
	Expired:        "The return window has closed.",
	NotYetValid:    "The return code is not valid yet.",
	Revoked:        "The return code has been revoked.",
	Duplicate:      "This parcel has already been deposited.",
	Overweight:     "The parcel is over the weight limit.",
	Oversize:       "The parcel is over the size limit.",
	DangerousGoods: "Dangerous goods are not accepted at this counter.",
	WrongNetwork:   "This return must be dropped at another network's counter.",
	ShelfFull:      "The shelf is full.",
	BadCheckDigit:  "The tracking number's check digit is wrong.",
	StorageFull:    "The terminal's storage is full; call support.",
}
