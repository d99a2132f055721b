// Package cloud is the domain of the Comptoir cloud service: a network of
// merchants (tenants with their own keys), the parcels and their tracking
// timelines built from what terminals and partners report and checked
// against each parcel's state, the return authorisations it issues, the
// registry of enrolled terminals, receipts, the dead letters of the ingest,
// API keys and their roles, and the Store that keeps them. Its use cases
// (Issuer, Merchants, Partners, Fleet, Receipts, Trust) are what the HTTP
// API calls.
//
// It imports the standard library, uuid, edge, sync/wire and scanner/token
// only.
// Badger, MQTT and HTTP live in subpackages (badgerstore, broker, ingest,
// httpapi) that depend on this package; server wires them and
// cmd/comptoir-cloud runs the server.
package cloud

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// RandomSecret returns n random bytes encoded as base64url without padding:
// MQTT passwords and API keys.
func RandomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("cloud: random: " + err.Error()) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the SHA-256 of a secret. Secrets are 32 random bytes,
// so a fast hash is enough: nothing can be guessed from it, and only the
// hash is stored.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
