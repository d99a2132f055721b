package cloud

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// Defaults and limits of a return authorisation.
const (
	DefaultCarrier   = "DEMO"
	DefaultValidDays = 30
	MaxValidDays     = 365
	MaxItems         = 20
)

// DefaultDest is the demo return warehouse, named by its id in the
// network's directory rather than by its address: every byte of an RA is in
// its QR code (DESIGN.md, "Keep tokens small").
var DefaultDest = edge.Address{Name: "WH-DEMO"}

var (
	trackingRe = regexp.MustCompile(`^[A-Z0-9]{8,34}$`)
	s10Re      = regexp.MustCompile(`^[A-Z]{2}[0-9]{9}[A-Z]{2}$`)
)

// ReturnRequest is what a merchant asks for in POST /v1/returns. With
// Token, the merchant signed the code itself (with a key it registered):
// the cloud checks it and registers the return from its claims, and every
// other field is ignored.
type ReturnRequest struct {
	Carrier   string         `json:"carrier"`
	Dst       *edge.Address  `json:"dst"`
	Items     []edge.Item    `json:"items"`
	MaxG      int            `json:"max_g"`
	DimsMM    []int          `json:"dims_mm"`
	Hazardous bool           `json:"hz"`
	Networks  []string       `json:"net"`
	Mode      string         `json:"mode"`
	ValidDays int            `json:"valid_days"`
	Tracking  string         `json:"tracking"`
	Customer  *edge.Customer `json:"cust"`
	Token     string         `json:"token"`
}

// Validate checks req and fills in its defaults.
func (req *ReturnRequest) Validate() error {
	if len(req.Items) == 0 || len(req.Items) > MaxItems {
		return edge.Errorf(edge.EINVALID, "A return needs 1 to %d items.", MaxItems)
	}
	for i := range req.Items {
		it := &req.Items[i]
		if it.SKU == "" {
			return edge.Errorf(edge.EINVALID, "Item %d has no sku.", i)
		}
		if it.Qty == 0 {
			it.Qty = 1
		}
		if it.Qty < 0 || it.Qty > 999 {
			return edge.Errorf(edge.EINVALID, "Item %d has a quantity of %d.", i, it.Qty)
		}
		switch it.Reason {
		case "", edge.ReasonChangedMind, edge.ReasonNotAsDescribed, edge.ReasonDamaged,
			edge.ReasonWrongSize, edge.ReasonDefective, edge.ReasonOther:
		default:
			return edge.Errorf(edge.EINVALID, "Item %d has an unknown reason %q.", i, it.Reason)
		}
	}
	if req.Carrier == "" {
		req.Carrier = DefaultCarrier
	}
	if req.Dst == nil {
		d := DefaultDest
		req.Dst = &d
	}
	switch req.Mode {
	case "":
		req.Mode = edge.ModeLabelAtCounter
	case edge.ModeLabelAtCounter, edge.ModePrelabelled:
	default:
		return edge.Errorf(edge.EINVALID, "Unknown mode %q (label_at_counter or prelabelled).", req.Mode)
	}
	if req.ValidDays == 0 {
		req.ValidDays = DefaultValidDays
	}
	if req.ValidDays < 0 || req.ValidDays > MaxValidDays {
		return edge.Errorf(edge.EINVALID, "valid_days must be 1 to %d.", MaxValidDays)
	}
	if req.MaxG < 0 {
		return edge.Errorf(edge.EINVALID, "max_g must not be negative.")
	}
	if req.DimsMM != nil && (len(req.DimsMM) != 3 || req.DimsMM[0] <= 0 || req.DimsMM[1] <= 0 || req.DimsMM[2] <= 0) {
		return edge.Errorf(edge.EINVALID, "dims_mm must be three positive lengths.")
	}
	if req.Tracking != "" {
		return checkTracking(req.Tracking)
	}
	return nil
}

func checkTracking(t string) error {
	if !trackingRe.MatchString(t) {
		return edge.Errorf(edge.EINVALID, "A tracking number is 8 to 34 capital letters and digits.")
	}
	if s10Re.MatchString(t) && !edge.ValidS10(t) {
		return edge.Errorf(edge.EINVALID, "The tracking number %s has a wrong check digit.", t)
	}
	return nil
}

// Issuer issues, registers, finds and revokes merchants' return
// authorisations.
type Issuer struct {
	Store interface {
		ReturnStore
		SigningKeys(ctx context.Context, scope Scope) ([]SigningKey, error)
		Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error)
	}
	Trust *Trust
	// Sealer opens the sealed private halves of signing keys; nil when
	// the cloud has no key-encryption key.
	Sealer *Sealer
	Now    func() time.Time
}

func (is *Issuer) now() time.Time {
	if is.Now != nil {
		return is.Now().UTC()
	}
	return time.Now().UTC()
}

// trackingTries is how often a generated tracking number is drawn again
// when the store finds it taken.
const trackingTries = 5

// CreateReturn issues a return authorisation of merchant signed with its
// current key, or registers the one it signed itself (req.Token), and
// opens the parcel's timeline with "created". A tracking number already
// used is ETrackingTaken; a generated one is drawn again.
func (is *Issuer) CreateReturn(ctx context.Context, merchant string, req ReturnRequest) (Return, error) {
	if req.Token != "" {
		return is.register(ctx, merchant, req.Token)
	}
	if err := req.Validate(); err != nil {
		return Return{}, err
	}
	keys, err := is.Store.SigningKeys(ctx, MerchantScope(merchant))
	if err != nil {
		return Return{}, err
	}
	sk, err := SigningKeyOf(keys)
	if err != nil {
		return Return{}, err
	}
	key, err := sk.TokenKey(is.Sealer)
	if err != nil {
		return Return{}, fmt.Errorf("create return: %w", err)
	}
	generated := req.Tracking == ""
	for try := 1; ; try++ {
		if generated {
			if req.Tracking, err = NewTracking(); err != nil {
				return Return{}, err
			}
		}
		r, err := is.issue(ctx, merchant, sk.Issuer, key, req)
		if edge.ErrorCode(err) == ETrackingTaken && generated && try < trackingTries {
			continue
		}
		return r, err
	}
}

func (is *Issuer) issue(ctx context.Context, merchant, iss string, key token.Key, req ReturnRequest) (Return, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Return{}, fmt.Errorf("create return: %w", err)
	}
	now := is.now().Truncate(time.Second)
	ra := edge.ReturnAuthorisation{
		Issuer: iss, ID: id.String(),
		IssuedAt: now, ExpiresAt: now.AddDate(0, 0, req.ValidDays),
		Tracking: req.Tracking, Carrier: req.Carrier, Dest: *req.Dst, Items: req.Items,
		MaxG: req.MaxG, DimsMM: req.DimsMM, Hazardous: req.Hazardous, Networks: req.Networks,
		Mode: req.Mode, Customer: req.Customer,
	}
	tok, err := token.SignRA(key, ra)
	if err != nil {
		return Return{}, err
	}
	r := Return{ID: ra.ID, Merchant: merchant, Tracking: ra.Tracking, Carrier: ra.Carrier, Items: ra.Items, Token: tok, CreatedAt: now, ExpiresAt: ra.ExpiresAt}
	if err := is.Store.CreateReturn(ctx, r); err != nil {
		return Return{}, err
	}
	return r, nil
}

// register checks a code merchant signed itself against the merchant's
// own keys (bound to it, so that a code claiming another issuer is
// refused) and stores its return.
func (is *Issuer) register(ctx context.Context, merchant, tok string) (Return, error) {
	keys, err := is.Store.SigningKeys(ctx, MerchantScope(merchant))
	if err != nil {
		return Return{}, err
	}
	now := is.now()
	trust, err := TrustList(keys, nil, now)
	if err != nil {
		return Return{}, err
	}
	ra, err := token.VerifyRA(trust, tok, now)
	if err != nil {
		return Return{}, edge.Errorf(edge.EINVALID, "The token does not verify with this merchant's keys (%s): %s", edge.ErrorCode(err), edge.ErrorMessage(err))
	}
	if err := checkTracking(ra.Tracking); err != nil {
		return Return{}, err
	}
	r := Return{ID: ra.ID, Merchant: merchant, Tracking: ra.Tracking, Carrier: ra.Carrier, Items: ra.Items, Token: tok, CreatedAt: now.Truncate(time.Second), ExpiresAt: ra.ExpiresAt}
	if err := is.Store.CreateReturn(ctx, r); err != nil {
		return Return{}, err
	}
	return r, nil
}

// FindReturn returns return id in scope, or ENOTFOUND.
func (is *Issuer) FindReturn(ctx context.Context, scope Scope, id string) (Return, error) {
	return is.Store.FindReturn(ctx, scope, id)
}

// Revoke adds return id (in scope) to the revocation list and publishes
// the trust list, so that terminals refuse its code (REVOKED), online or,
// once they have heard of it, offline. A failed publication is logged by
// the caller: the revocation is stored and goes out with the next one.
func (is *Issuer) Revoke(ctx context.Context, scope Scope, id string) (Return, error) {
	r, err := is.Store.FindReturn(ctx, scope, id)
	if err != nil {
		return Return{}, err
	}
	if err := is.Store.Revoke(ctx, scope, r.ID); err != nil {
		return Return{}, err
	}
	if is.Trust != nil {
		if err := is.Trust.Refresh(ctx); err != nil {
			return r, fmt.Errorf("revoke: %w", err)
		}
	}
	return r, nil
}

// The QR link of a return: a path that works without a key until the
// return expires, signed (HMAC-SHA256) with a secret of the cloud that
// instances sharing a store share.
const qrLinkSecret = "qr-link"

func (is *Issuer) linkMAC(ctx context.Context, id string, exp int64) ([]byte, error) {
	secret, err := is.Store.Secret(ctx, qrLinkSecret, func() []byte { return []byte(RandomSecret(32)) })
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "qr.png\x00%s\x00%d", id, exp)
	return m.Sum(nil), nil
}

// QRLink returns the signed path of r's QR code:
// /v1/returns/{id}/qr.png?exp=UNIX&sig=MAC, valid until r expires.
func (is *Issuer) QRLink(ctx context.Context, r Return) (string, error) {
	exp := r.ExpiresAt.Unix()
	mac, err := is.linkMAC(ctx, r.ID, exp)
	if err != nil {
		return "", err
	}
	return "/v1/returns/" + r.ID + "/qr.png?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + base64.RawURLEncoding.EncodeToString(mac), nil
}

// LinkedReturn returns the return of a signed QR link, or ENOTFOUND when
// the signature is wrong or the link has expired: a link that does not
// work reveals nothing.
func (is *Issuer) LinkedReturn(ctx context.Context, id, exp, sig string) (Return, error) {
	notFound := ErrNotFound("return", id)
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || is.now().Unix() > e {
		return Return{}, notFound
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return Return{}, notFound
	}
	want, err := is.linkMAC(ctx, id, e)
	if err != nil {
		return Return{}, err
	}
	if !hmac.Equal(got, want) {
		return Return{}, notFound
	}
	return is.Store.FindReturn(ctx, Network, id)
}
