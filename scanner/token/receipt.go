package token

import (
	"crypto/ed25519"

	"github.com/comptoir/comptoir/edge"
)

// receiptClaims are the claims of a proof-of-deposit receipt.
type receiptClaims struct {
	Rid string      `json:"rid"`
	Trk string      `json:"trk"`
	RA  string      `json:"ra,omitempty"`
	RP  string      `json:"rp"`
	At  numericDate `json:"at"`
	Wt  int         `json:"wt"`
	N   int         `json:"n"`
	// Sync is true when the time was synced with the cloud's
	// (edge.Receipt.TimeSynced); absent otherwise, and in receipts signed
	// before it existed.
	Sync bool `json:"sync,omitempty"`
}

// SignReceipt returns the compact JWT of r signed by the terminal key k; the
// header's kid is the terminal id, k.ID. It returns an *edge.Error with code
// EINVALID when r has no id, tracking number or time.
func SignReceipt(k Key, r edge.Receipt) (string, error) {
	if r.ID == "" || r.Tracking == "" || r.At.IsZero() {
		return "", edge.Errorf(edge.EINVALID, "A receipt needs an id, a tracking number and a time.")
	}
	return sign(k, TypReceipt, receiptClaims{
		Rid: r.ID, Trk: r.Tracking, RA: r.RAID, RP: r.RelayPoint,
		At: unix(r.At), Wt: r.WeightG, N: r.Parcels, Sync: r.TimeSynced,
	})
}

// ReceiptSigner signs receipts with a terminal's key.
type ReceiptSigner struct{ Key Key }

var _ edge.ReceiptSigner = ReceiptSigner{}

// SignReceipt returns the compact JWT of r. See SignReceipt.
func (s ReceiptSigner) SignReceipt(r edge.Receipt) (string, error) {
	return SignReceipt(s.Key, r)
}

// VerifyReceipt checks a receipt token against the terminal key that lookup
// finds for its kid (the terminal id) and returns its claims. It returns an
// *edge.Error with code UNKNOWN_ISSUER when lookup knows no such terminal,
// and BAD_SIGNATURE for a bad signature, algorithm or typ, a malformed token,
// or missing claims.
func VerifyReceipt(lookup func(kid string) (ed25519.PublicKey, bool), token string) (edge.Receipt, error) {
	p, err := split(token)
	if err != nil {
		return edge.Receipt{}, err
	}
	if err := p.check(TypReceipt, lookup); err != nil {
		return edge.Receipt{}, err
	}
	var c receiptClaims
	if err := p.claims(&c); err != nil {
		return edge.Receipt{}, err
	}
	if c.Rid == "" || c.Trk == "" || c.At == 0 {
		return edge.Receipt{}, edge.Refuse(edge.BadSignature, "The receipt lacks a required claim.")
	}
	return edge.Receipt{
		ID: c.Rid, Tracking: c.Trk, RAID: c.RA, RelayPoint: c.RP,
		At: fromUnix(c.At), WeightG: c.Wt, Parcels: c.N, TimeSynced: c.Sync,
	}, nil
}
