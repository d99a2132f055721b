package token

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// algEdDSA is the one algorithm of Comptoir tokens (RFC 8037): Ed25519
// signatures of the standard library. The rest of JWT that we use (compact
// serialisation, the header, the claims) is parsed here, strictly.
const algEdDSA = "EdDSA"

// ClockSkew is how far a terminal's clock may be from the issuer's before
// "exp" and "nbf" are held against a token.
const ClockSkew = 2 * time.Minute

// MaxTokenSize bounds the tokens this package parses. An RA fits a QR code
// of at most a few hundred bytes; anything far larger is not ours.
const MaxTokenSize = 4096

// header is the JOSE header of Comptoir tokens. Its field order is the order
// on the wire, kept stable so that token sizes are predictable.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	// Crit names extensions a verifier must understand (RFC 7515 4.1.11);
	// this package understands none, so a token that has it is refused.
	Crit []string `json:"crit,omitempty"`
}

// sign returns the compact JWT of claims, signed by k with EdDSA.
func sign(k Key, typ string, claims any) (string, error) {
	if k.ID == "" || len(k.Private) != ed25519.PrivateKeySize {
		return "", edge.Errorf(edge.EINVALID, "A signing key needs an id and an Ed25519 private key.")
	}
	h, err := json.Marshal(header{Alg: algEdDSA, Kid: k.ID, Typ: typ})
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	signing := b64(h) + "." + b64(c)
	return signing + "." + b64(ed25519.Sign(k.Private, []byte(signing))), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// parsed is a token split into its parts, its header decoded and nothing
// else: the claims stay opaque bytes until the signature is checked.
type parsed struct {
	header  header
	signing string // header.payload, the signed bytes
	payload string // base64url claims
	sig     []byte
}

// split decodes the header of a compact JWT. A text that is not three
// base64url parts with a JSON header is refused as BAD_SIGNATURE: it claims
// to be a token and is not a valid one.
func split(token string) (parsed, error) {
	if len(token) > MaxTokenSize {
		return parsed{}, edge.Refuse(edge.BadSignature, "The code is too long to be a signed token.")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return parsed{}, edge.Refuse(edge.BadSignature, "The code is not a well-formed signed token.")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return parsed{}, edge.Refuse(edge.BadSignature, "The code's token header is not base64url.")
	}
	var h header
	if err := strictUnmarshal(hb, &h); err != nil {
		return parsed{}, edge.Refuse(edge.BadSignature, "The code's token header is not valid JSON.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return parsed{}, edge.Refuse(edge.BadSignature, "The code's signature is not base64url.")
	}
	return parsed{header: h, signing: parts[0] + "." + parts[1], payload: parts[1], sig: sig}, nil
}

// check verifies p's algorithm, type and signature against the key that
// lookup finds for its kid. Only after check succeeds may the claims be read.
func (p parsed) check(typ string, lookup func(string) (ed25519.PublicKey, bool)) error {
	// Only EdDSA is accepted: "none", HMAC (with a public key as secret) and
	// every other algorithm are refused before any key is looked up.
	if p.header.Alg != algEdDSA {
		return edge.Refuse(edge.BadSignature, "The code is signed with an algorithm this counter does not accept.")
	}
	if p.header.Typ != typ || p.header.Crit != nil {
		return edge.Refuse(edge.BadSignature, "The code is a signed token of another kind.")
	}
	pub, ok := lookup(p.header.Kid)
	if !ok {
		return edge.Refuse(edge.UnknownIssuer, "The code is signed by an unknown key.")
	}
	if len(pub) != ed25519.PublicKeySize || len(p.sig) != ed25519.SignatureSize {
		return edge.Refuse(edge.BadSignature, "The code's signature is invalid.")
	}
	if !ed25519.Verify(pub, []byte(p.signing), p.sig) {
		return edge.Refuse(edge.BadSignature, "The code's signature is invalid.")
	}
	return nil
}

// claims decodes the verified payload into v.
func (p parsed) claims(v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p.payload)
	if err != nil {
		return edge.Refuse(edge.BadSignature, "The code's claims are not base64url.")
	}
	if err := strictUnmarshal(b, v); err != nil {
		return edge.Refuse(edge.BadSignature, "The code's claims are not valid.")
	}
	return nil
}

// strictUnmarshal decodes one JSON object and refuses trailing data.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF { // More() is false before a stray "}" or "]"
		return fmt.Errorf("trailing data")
	}
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, which RFC 7519
// allows to be fractional. Fractions are dropped.
type numericDate int64

func (d *numericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("numeric date: %w", err)
	}
	if f < 0 || f > 1e11 { // beyond year 5000: not a date
		return fmt.Errorf("numeric date out of range")
	}
	*d = numericDate(f)
	return nil
}
