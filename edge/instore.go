package edge

import (
	"context"
	"fmt"
	"strings"
)

// Condition is the state in which a store finds a returned item.
type Condition string

// Conditions of DESIGN.md.
const (
	ConditionNew       Condition = "NEW"
	ConditionOpened    Condition = "OPENED"
	ConditionDamaged   Condition = "DAMAGED"
	ConditionDefective Condition = "DEFECTIVE"
)

// Disposition is where a returned item goes next.
type Disposition string

// Dispositions of DESIGN.md.
const (
	DispositionRestock        Disposition = "RESTOCK"
	DispositionRefurbish      Disposition = "REFURBISH"
	DispositionRecycle        Disposition = "RECYCLE"
	DispositionReturnToVendor Disposition = "RETURN_TO_VENDOR"
	DispositionDestroy        Disposition = "DESTROY"
)

// Resolution is what the customer gets for an in-store return.
type Resolution string

// Resolutions of DESIGN.md.
const (
	ResolutionRefund      Resolution = "REFUND"
	ResolutionExchange    Resolution = "EXCHANGE"
	ResolutionStoreCredit Resolution = "STORE_CREDIT"
)

// Error codes of in-store returns (HTTP 422): the clerk fixes the items.
const (
	EITEMNOTINRA = "ITEM_NOT_IN_RA" // an item whose SKU the RA does not list
	EQTYABOVERA  = "QTY_ABOVE_RA"   // more of an item than the RA allows
	ERAREQUIRED  = "RA_REQUIRED"    // a code with no return authorisation
)

// Valid reports whether c is a known condition.
func (c Condition) Valid() bool {
	switch c {
	case ConditionNew, ConditionOpened, ConditionDamaged, ConditionDefective:
		return true
	}
	return false
}

// Valid reports whether d is a known disposition.
func (d Disposition) Valid() bool {
	switch d {
	case DispositionRestock, DispositionRefurbish, DispositionRecycle, DispositionReturnToVendor, DispositionDestroy:
		return true
	}
	return false
}

// Valid reports whether r is a known resolution.
func (r Resolution) Valid() bool {
	switch r {
	case ResolutionRefund, ResolutionExchange, ResolutionStoreCredit:
		return true
	}
	return false
}

// InstoreItem is one item of an in-store return as the clerk graded it.
type InstoreItem struct {
	SKU         string      `json:"sku"`
	Name        string      `json:"name,omitempty"`
	Qty         int         `json:"qty"`
	Reason      string      `json:"reason,omitempty"`
	Condition   Condition   `json:"condition"`
	Disposition Disposition `json:"disposition"`
}

// InstoreData is the data of an instore.received operation.
type InstoreData struct {
	RAID       string        `json:"ra_id"`
	Issuer     string        `json:"issuer,omitempty"`
	Items      []InstoreItem `json:"items"`
	Resolution Resolution    `json:"resolution"`
}

// InstoreRequest is a return a customer brings back to the store.
type InstoreRequest struct {
	Code       string
	Items      []InstoreItem
	Resolution Resolution
	Operator   string
}

// InstoreReturn is the outcome of an accepted in-store return.
type InstoreReturn struct {
	Operation Operation
	Data      InstoreData
}

// ReceiveInstore checks the return code and the graded items and journals
// instore.received. A code the counter refuses (bad signature, expired,
// revoked, already deposited or received) journals return.refused and
// returns its refusal; a tracking barcode without RA is RA_REQUIRED; items
// the RA does not list are ITEM_NOT_IN_RA, quantities above it QTY_ABOVE_RA,
// and a malformed request INVALID, none of them journalled: the clerk fixes
// the form and tries again.
func (d *Desk) ReceiveInstore(ctx context.Context, req InstoreRequest) (InstoreReturn, error) {
	if err := validateInstore(req); err != nil {
		return InstoreReturn{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()

	code, err := d.Codes.Read(ctx, req.Code)
	if code.Digest == "" {
		code.Digest = Digest(req.Code)
	}
	if err != nil {
		refusals := Refusals(err)
		if len(refusals) == 0 {
			return InstoreReturn{}, fmt.Errorf("instore: %w", err)
		}
		return InstoreReturn{}, d.refuse(ctx, req.Operator, code, refusals)
	}
	ra := code.RA
	if ra == nil {
		return InstoreReturn{}, Errorf(ERAREQUIRED, "An in-store return needs the customer's return code (QR), not a tracking barcode.")
	}
	if done, err := d.Journal.InstoreReceived(ctx, ra.ID); err != nil {
		return InstoreReturn{}, fmt.Errorf("instore: %w", err)
	} else if done {
		return InstoreReturn{}, d.refuse(ctx, req.Operator, code, []RefusalCode{Duplicate})
	}
	if _, found, err := d.Journal.FindDeposit(ctx, ra.ID, code.Tracking); err != nil {
		return InstoreReturn{}, fmt.Errorf("instore: %w", err)
	} else if found {
		return InstoreReturn{}, d.refuse(ctx, req.Operator, code, []RefusalCode{Duplicate})
	}
	items, err := matchItems(ra.Items, req.Items)
	if err != nil {
		return InstoreReturn{}, err
	}

	data := InstoreData{RAID: ra.ID, Issuer: ra.Issuer, Items: items, Resolution: req.Resolution}
	op := NewOperation(OpInstoreReceived, d.now(), req.Operator, code.Tracking, data)
	op.ID = newID()
	op, err = d.Journal.Append(ctx, op)
	if err != nil {
		return InstoreReturn{}, fmt.Errorf("instore: %w", err)
	}
	d.appended(op)
	return InstoreReturn{Operation: op, Data: data}, nil
}

func validateInstore(req InstoreRequest) error {
	if strings.TrimSpace(req.Code) == "" {
		return Errorf(EINVALID, "Scan the customer's return code.")
	}
	if !req.Resolution.Valid() {
		return Errorf(EINVALID, "Choose a resolution: REFUND, EXCHANGE or STORE_CREDIT (got %q).", req.Resolution)
	}
	if len(req.Items) == 0 {
		return Errorf(EINVALID, "An in-store return needs at least one item.")
	}
	for i, it := range req.Items {
		switch {
		case it.SKU == "":
			return Errorf(EINVALID, "Item %d has no SKU.", i+1)
		case it.Qty < 1:
			return Errorf(EINVALID, "Item %s: the quantity must be at least 1.", it.SKU)
		case !it.Condition.Valid():
			return Errorf(EINVALID, "Item %s: condition must be NEW, OPENED, DAMAGED or DEFECTIVE (got %q).", it.SKU, it.Condition)
		case !it.Disposition.Valid():
			return Errorf(EINVALID, "Item %s: disposition must be RESTOCK, REFURBISH, RECYCLE, RETURN_TO_VENDOR or DESTROY (got %q).", it.SKU, it.Disposition)
		}
	}
	return nil
}

// matchItems checks the graded items against the RA's lines and returns them
// with the RA's name and reason. One SKU may come in several lines (say, one
// new and one damaged); their sum must not exceed the RA's quantity.
func matchItems(lines []Item, graded []InstoreItem) ([]InstoreItem, error) {
	allowed := map[string]Item{}
	for _, l := range lines {
		a := allowed[l.SKU]
		a.SKU, a.Name, a.Reason, a.Qty = l.SKU, l.Name, l.Reason, a.Qty+l.Qty
		allowed[l.SKU] = a
	}
	taken := map[string]int{}
	out := make([]InstoreItem, 0, len(graded))
	for _, it := range graded {
		l, ok := allowed[it.SKU]
		if !ok {
			return nil, Errorf(EITEMNOTINRA, "Item %s is not in this return authorisation.", it.SKU)
		}
		taken[it.SKU] += it.Qty
		if taken[it.SKU] > l.Qty {
			return nil, Errorf(EQTYABOVERA, "Item %s: %d brought back, the return authorisation allows %d.", it.SKU, taken[it.SKU], l.Qty)
		}
		it.Name, it.Reason = l.Name, l.Reason
		out = append(out, it)
	}
	return out, nil
}
