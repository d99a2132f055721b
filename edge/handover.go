package edge

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// EWRONGCARRIER refuses a parcel scanned into another carrier's handover.
const EWRONGCARRIER = "WRONG_CARRIER"

// MaxManifest bounds the parcels of one handover, so that a manifest.closed
// fits in one batch to the cloud.
const MaxManifest = 1000

// HandoverRequest hands parcels to a carrier's driver: the ones scanned
// (Trackings), or with All every parcel on the shelf (of Carrier when set,
// else of every carrier, one manifest each).
type HandoverRequest struct {
	Carrier   string
	Trackings []string
	All       bool
	DriverRef string
	Operator  string
}

// Manifest is one carrier's closed manifest.
type Manifest struct {
	ID        string    `json:"id"`
	Carrier   string    `json:"carrier"`
	Trackings []string  `json:"trackings"`
	Operation Operation `json:"operation"`
	// PrintJob is the printed manifest's job; empty when it could not be
	// rendered.
	PrintJob string `json:"print_job,omitempty"`
	// PrintError says why the manifest could not be rendered; the handover
	// stands all the same.
	PrintError string `json:"print_error,omitempty"`
}

// Handover is the outcome of a handover.
type Handover struct {
	Manifests []Manifest `json:"manifests"`
}

// Handover journals parcel.handed_over for each parcel, which takes it off
// the shelf, then manifest.closed with the printed manifest, per carrier.
// Every parcel is checked before anything is journalled: a tracking not on
// the shelf is NOT_ON_SHELF, or ALREADY_HANDED_OVER when the carrier has it;
// one of another carrier than Carrier (or than the others scanned) is
// WRONG_CARRIER; nothing to hand over is NOT_ON_SHELF; a request with both or
// neither of All and Trackings is INVALID; a carrier or driver reference
// with control characters is INVALID_TEXT (CheckText).
func (d *Desk) Handover(ctx context.Context, req HandoverRequest) (Handover, error) {
	req.Carrier = strings.TrimSpace(req.Carrier)
	switch {
	case req.All && len(req.Trackings) > 0:
		return Handover{}, Errorf(EINVALID, "Send either the trackings scanned or all, not both.")
	case !req.All && len(req.Trackings) == 0:
		return Handover{}, Errorf(EINVALID, "Scan the parcels to hand over, or hand over all.")
	case len(req.Trackings) > MaxManifest:
		return Handover{}, Errorf(ETOOLARGE, "At most %d parcels in one handover.", MaxManifest)
	case len(req.DriverRef) > 100:
		return Handover{}, Errorf(EINVALID, "The driver reference is over 100 characters.")
	}
	if err := CheckText("carrier", req.Carrier); err != nil {
		return Handover{}, err
	}
	if err := CheckText("driver reference", req.DriverRef); err != nil {
		return Handover{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()

	parcels, err := d.handoverParcels(ctx, req)
	if err != nil {
		return Handover{}, err
	}
	groups := map[string][]ShelfParcel{}
	var carriers []string
	for _, p := range parcels {
		if _, ok := groups[p.Carrier]; !ok {
			carriers = append(carriers, p.Carrier)
		}
		groups[p.Carrier] = append(groups[p.Carrier], p)
	}
	slices.Sort(carriers)
	var out Handover
	for _, carrier := range carriers {
		ps := groups[carrier]
		for len(ps) > 0 {
			n := min(len(ps), MaxManifest)
			m, err := d.closeManifest(ctx, carrier, req, ps[:n])
			if m.ID != "" {
				out.Manifests = append(out.Manifests, m)
			}
			if err != nil {
				return out, err
			}
			ps = ps[n:]
		}
	}
	return out, nil
}

// handoverParcels returns the shelf parcels a request names, checked.
func (d *Desk) handoverParcels(ctx context.Context, req HandoverRequest) ([]ShelfParcel, error) {
	if req.All {
		shelf, err := d.Journal.Shelf(ctx)
		if err != nil {
			return nil, fmt.Errorf("handover: %w", err)
		}
		var out []ShelfParcel
		for _, p := range shelf {
			if req.Carrier == "" || p.Carrier == req.Carrier {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			if req.Carrier != "" {
				return nil, Errorf(ENOTONSHELF, "No parcel of %s on the shelf.", req.Carrier)
			}
			return nil, Errorf(ENOTONSHELF, "The shelf is empty.")
		}
		return out, nil
	}
	carrier := req.Carrier
	seen := map[string]bool{}
	var out []ShelfParcel
	for _, trk := range req.Trackings {
		trk = strings.TrimSpace(trk)
		if trk == "" {
			return nil, Errorf(EINVALID, "An empty tracking number.")
		}
		if seen[trk] {
			continue
		}
		seen[trk] = true
		p, found, err := d.Journal.FindDeposit(ctx, "", trk)
		if err != nil {
			return nil, fmt.Errorf("handover: %w", err)
		}
		if !found {
			rec, ok, err := d.Journal.DepositByTracking(ctx, trk)
			if err != nil {
				return nil, fmt.Errorf("handover: %w", err)
			}
			if ok && rec.State == DepositHandedOver {
				return nil, Errorf(EHANDEDOVER, "Parcel %s was handed over already.", trk)
			}
			return nil, Errorf(ENOTONSHELF, "Parcel %s is not on the shelf.", trk)
		}
		if carrier == "" {
			carrier = p.Carrier
		}
		if p.Carrier != carrier {
			return nil, Errorf(EWRONGCARRIER, "Parcel %s goes with %s, not %s.", trk, p.Carrier, carrier)
		}
		out = append(out, p)
	}
	return out, nil
}

// closeManifest journals the handover of ps and the manifest in one
// durable write: a power cut never leaves parcels off the shelf without
// their manifest, or a manifest whose parcels are still on the shelf.
func (d *Desk) closeManifest(ctx context.Context, carrier string, req HandoverRequest, ps []ShelfParcel) (Manifest, error) {
	now := d.now().UTC()
	m := Manifest{ID: newID(), Carrier: carrier}
	data := HandedOverData{ManifestID: m.ID, Carrier: carrier, DriverRef: req.DriverRef}
	ops := make([]Operation, 0, len(ps)+1)
	for _, p := range ps {
		op := NewOperation(OpParcelHandedOver, now, req.Operator, p.Tracking, data)
		op.ID = newID()
		ops = append(ops, op)
		m.Trackings = append(m.Trackings, p.Tracking)
	}
	mdata := ManifestData{ManifestID: m.ID, Carrier: carrier, Count: len(m.Trackings), Trackings: m.Trackings}
	op := NewOperation(OpManifestClosed, now, req.Operator, "", mdata)
	op.ID = newID()
	ops = append(ops, op)

	var jobs []PrintJob
	doc := ManifestDoc{
		ManifestID: m.ID, Carrier: carrier, RelayPoint: d.RelayPoint, At: now,
		DriverRef: req.DriverRef, Operator: req.Operator, Trackings: m.Trackings,
	}
	// A manifest that cannot be rendered must not stop the driver: the
	// handover is journalled and the manifest closed unprinted.
	if b, err := d.Renderer.Manifest(doc); err == nil {
		jobs = append(jobs, newJob(op.ID, PrinterReceipt, FormatESCPOS, b, now))
		m.PrintJob = jobs[0].ID
	} else {
		m.PrintError = ErrorMessage(err)
	}
	done, err := d.Journal.AppendAll(ctx, ops, jobs...)
	if err != nil {
		return Manifest{}, fmt.Errorf("handover: %w", err)
	}
	for _, op := range done {
		d.appended(op)
	}
	m.Operation = done[len(done)-1]
	return m, nil
}
