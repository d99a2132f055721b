package cloud

import (
	"regexp"
	"time"
)

// Merchant is a tenant of the network: a merchant or a returns platform
// acting for one. Its returns, parcels, keys and events are its own; an API
// key of one merchant never reaches another's (DESIGN.md, "Merchants").
type Merchant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

var merchantIDRe = regexp.MustCompile(`^[a-z0-9-]{2,64}$`)

// ValidMerchantID reports whether id is a merchant id: 2 to 64 lower-case
// letters, digits and dashes.
func ValidMerchantID(id string) bool { return merchantIDRe.MatchString(id) }

// DemoMerchant is the merchant that --demo creates; the issuer and partner
// keys of demo.json are its keys.
const DemoMerchant = "demo"

// Scope is what an API key may see: one merchant's data, or the whole
// network's (operator keys). Stores filter by it in the query itself.
type Scope struct {
	// Merchant is the merchant whose data is in scope; empty only for the
	// whole network.
	Merchant string
}

// Network is the scope of operator keys: every merchant.
var Network = Scope{}

// MerchantScope returns the scope of merchant id.
func MerchantScope(id string) Scope { return Scope{Merchant: id} }

// All reports whether the scope is the whole network.
func (s Scope) All() bool { return s.Merchant == "" }

// Allows reports whether data of merchant is in scope.
func (s Scope) Allows(merchant string) bool { return s.All() || s.Merchant == merchant }
