package edge

import (
	"context"
	"time"
)

// CodeKind tells what a scanned code is.
type CodeKind string

// Code kinds answered by /api/scan.
const (
	KindReturn   CodeKind = "return"   // a signed return authorisation
	KindTracking CodeKind = "tracking" // a carrier tracking barcode with no RA
)

// Return modes of an RA.
const (
	ModeLabelAtCounter = "label_at_counter"
	ModePrelabelled    = "prelabelled"
)

// Return reasons of an RA's items.
const (
	ReasonChangedMind    = "CHANGED_MIND"
	ReasonNotAsDescribed = "NOT_AS_DESCRIBED"
	ReasonDamaged        = "DAMAGED"
	ReasonWrongSize      = "WRONG_SIZE"
	ReasonDefective      = "DEFECTIVE"
	ReasonOther          = "OTHER"
)

// Address is a postal address, used for an RA's destination and a relay point.
type Address struct {
	Name     string `json:"name,omitempty"`
	Street   string `json:"street,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	City     string `json:"city,omitempty"`
	Country  string `json:"country,omitempty"`
}

// Item is one line of a return authorisation.
type Item struct {
	SKU    string `json:"sku"`
	Name   string `json:"name,omitempty"`
	Qty    int    `json:"qty"`
	Reason string `json:"reason,omitempty"`
}

// Customer is the minimal personal data an RA may carry.
type Customer struct {
	Name string `json:"name,omitempty"`
}

// ReturnAuthorisation holds the claims of a verified return authorisation
// token. The JSON names are the claim names of DESIGN.md.
type ReturnAuthorisation struct {
	Issuer    string    `json:"iss"`
	ID        string    `json:"jti"`
	IssuedAt  time.Time `json:"-"`
	ExpiresAt time.Time `json:"-"`
	NotBefore time.Time `json:"-"`
	Tracking  string    `json:"trk"`
	Carrier   string    `json:"car"`
	Dest      Address   `json:"dst"`
	Items     []Item    `json:"items"`
	MaxG      int       `json:"max_g,omitempty"`
	DimsMM    []int     `json:"dims_mm,omitempty"`
	Hazardous bool      `json:"hz,omitempty"`
	Networks  []string  `json:"net,omitempty"`
	Mode      string    `json:"mode,omitempty"`
	Customer  *Customer `json:"cust,omitempty"`
}

// Code is what a scanned text turned out to be, once verified.
type Code struct {
	Kind     CodeKind             `json:"kind"`
	Tracking string               `json:"tracking"`
	Carrier  string               `json:"carrier,omitempty"`
	Verified bool                 `json:"verified"`
	Mode     string               `json:"mode"`
	RA       *ReturnAuthorisation `json:"ra,omitempty"`
	// Digest is a short hash of the raw text, journalled for refusals instead
	// of the text itself so that no personal data is kept.
	Digest string `json:"digest"`
}

// Symbol is one barcode found in an image.
type Symbol struct {
	Format string `json:"format"`
	Text   string `json:"text"`
}

// CodeReader turns the text of a scanned symbol into a verified Code.
//
// Read returns an *Error whose code is a RefusalCode (UNREADABLE,
// UNKNOWN_FORMAT, BAD_SIGNATURE, UNKNOWN_ISSUER, EXPIRED, NOT_YET_VALID,
// REVOKED, BAD_CHECK_DIGIT) when the text is not an acceptable code. When
// the text could be parsed, the partial Code (with its Digest) is returned
// alongside the error.
type CodeReader interface {
	Read(ctx context.Context, text string) (Code, error)
}
