package token

import (
	"time"

	"github.com/comptoir/comptoir/edge"
)

// raClaims are the claims of a return authorisation, in DESIGN.md's names.
// Every optional claim is left out when empty: a token travels in a QR code
// that a phone must show, and each byte makes the code denser.
type raClaims struct {
	Iss   string         `json:"iss"`
	Jti   string         `json:"jti"`
	Iat   numericDate    `json:"iat,omitempty"`
	Exp   numericDate    `json:"exp"`
	Nbf   numericDate    `json:"nbf,omitempty"`
	Trk   string         `json:"trk"`
	Car   string         `json:"car,omitempty"`
	Dst   *edge.Address  `json:"dst,omitempty"`
	Items []edge.Item    `json:"items,omitempty"`
	MaxG  int            `json:"max_g,omitempty"`
	Dims  []int          `json:"dims_mm,omitempty"`
	Hz    bool           `json:"hz,omitempty"`
	Net   []string       `json:"net,omitempty"`
	Mode  string         `json:"mode,omitempty"`
	Cust  *edge.Customer `json:"cust,omitempty"`
}

// SignRA returns the compact JWT of ra signed by k. Empty claims are left
// out, and so is "mode" when it is the default, label_at_counter. The claims iss, jti, exp
// and trk are required; it returns an *edge.Error with code EINVALID when one
// is missing.
func SignRA(k Key, ra edge.ReturnAuthorisation) (string, error) {
	if ra.Issuer == "" || ra.ID == "" || ra.ExpiresAt.IsZero() || ra.Tracking == "" {
		return "", edge.Errorf(edge.EINVALID, "A return authorisation needs an issuer, an id, an expiry and a tracking number.")
	}
	c := raClaims{
		Iss: ra.Issuer, Jti: ra.ID,
		Iat: unix(ra.IssuedAt), Exp: unix(ra.ExpiresAt), Nbf: unix(ra.NotBefore),
		Trk: ra.Tracking, Car: ra.Carrier,
		Items: ra.Items, MaxG: ra.MaxG, Dims: ra.DimsMM, Hz: ra.Hazardous,
		Net: ra.Networks, Mode: ra.Mode, Cust: ra.Customer,
	}
	if ra.Dest != (edge.Address{}) {
		dst := ra.Dest
		c.Dst = &dst
	}
	if c.Mode == edge.ModeLabelAtCounter {
		c.Mode = "" // the default: left out to save bytes, restored by VerifyRA
	}
	if c.Cust != nil && c.Cust.Name == "" {
		c.Cust = nil
	}
	return sign(k, TypRA, c)
}

// VerifyRA checks token against the trust list t at time now and returns its
// claims. The signature is verified before any claim is read. It returns an
// *edge.Error whose code is a refusal: UNKNOWN_ISSUER (kid not trusted, or
// bound to another issuer than the code's "iss"),
// BAD_SIGNATURE (bad signature, algorithm other than EdDSA, wrong typ,
// malformed token or claims, a required claim missing), EXPIRED,
// NOT_YET_VALID (both beyond ClockSkew) or REVOKED. With the last three, the
// signature was good, so the claims are returned beside the refusal (for the
// journal's ra_id); they must not be acted on. A token without "mode" gets
// label_at_counter.
func VerifyRA(t *TrustList, token string, now time.Time) (edge.ReturnAuthorisation, error) {
	p, err := split(token)
	if err != nil {
		return edge.ReturnAuthorisation{}, err
	}
	if err := p.check(TypRA, t.Key); err != nil {
		return edge.ReturnAuthorisation{}, err
	}
	var c raClaims
	if err := p.claims(&c); err != nil {
		return edge.ReturnAuthorisation{}, err
	}
	if c.Iss == "" || c.Jti == "" || c.Exp == 0 || c.Trk == "" {
		return edge.ReturnAuthorisation{}, edge.Refuse(edge.BadSignature, "The return code lacks a required claim.")
	}
	// The key must be one of the issuer the code claims: a merchant's key
	// signs that merchant's codes, never another's.
	if iss, bound := t.Issuer(p.header.Kid); bound && iss != c.Iss {
		return edge.ReturnAuthorisation{}, edge.Refuse(edge.UnknownIssuer, "The return code claims issuer %q, but its key is another issuer's.", c.Iss)
	}
	ra := edge.ReturnAuthorisation{
		Issuer: c.Iss, ID: c.Jti,
		IssuedAt: fromUnix(c.Iat), ExpiresAt: fromUnix(c.Exp), NotBefore: fromUnix(c.Nbf),
		Tracking: c.Trk, Carrier: c.Car,
		Items: c.Items, MaxG: c.MaxG, DimsMM: c.Dims, Hazardous: c.Hz,
		Networks: c.Net, Mode: c.Mode, Customer: c.Cust,
	}
	if c.Dst != nil {
		ra.Dest = *c.Dst
	}
	if ra.Mode == "" {
		ra.Mode = edge.ModeLabelAtCounter
	}
	if t.Revoked(ra.ID) {
		return ra, edge.Refuse(edge.Revoked, "This return code has been revoked.")
	}
	if now.After(ra.ExpiresAt.Add(ClockSkew)) {
		return ra, edge.Refuse(edge.Expired, "This return code expired on %s.", ra.ExpiresAt.UTC().Format(time.DateOnly))
	}
	if !ra.NotBefore.IsZero() && now.Add(ClockSkew).Before(ra.NotBefore) {
		return ra, edge.Refuse(edge.NotYetValid, "This return code is valid from %s.", ra.NotBefore.UTC().Format(time.DateTime))
	}
	return ra, nil
}

func unix(t time.Time) numericDate {
	if t.IsZero() {
		return 0
	}
	return numericDate(t.Unix())
}

func fromUnix(d numericDate) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(int64(d), 0).UTC()
}
