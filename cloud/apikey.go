package cloud

import "github.com/comptoir/comptoir/edge"

// Role is what an API key may do.
type Role string

// Roles of API keys.
const (
	// RoleIssuer creates return authorisations (merchants, returns platforms).
	RoleIssuer Role = "issuer"
	// RoleOperator enrols and watches terminals (fleet operators); its keys
	// belong to the network and see every merchant.
	RoleOperator Role = "operator"
	// RolePartner posts carrier and warehouse events.
	RolePartner Role = "partner"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleIssuer || r == RoleOperator || r == RolePartner
}

// APIKey is a stored API key: its hash (HashSecret), never the key itself.
type APIKey struct {
	Hash []byte `json:"hash"`
	Role Role   `json:"role"`
	Name string `json:"name,omitempty"`
	// Merchant is the merchant an issuer or partner key belongs to; empty
	// for operator keys, which belong to the network.
	Merchant string `json:"merchant,omitempty"`
}

// Scope returns what k may see: its merchant's data, or the whole network
// for an operator key.
func (k APIKey) Scope() Scope {
	if k.Role == RoleOperator {
		return Network
	}
	return MerchantScope(k.Merchant)
}

// Check returns an EINVALID error unless k has a hash, a known role, and a
// merchant exactly when its role needs one: an issuer or partner key without
// a merchant would see the whole network.
func (k APIKey) Check() error {
	switch {
	case len(k.Hash) == 0 || !k.Role.Valid():
		return edge.Errorf(edge.EINVALID, "An API key needs a hash and a known role.")
	case k.Role == RoleOperator && k.Merchant != "":
		return edge.Errorf(edge.EINVALID, "Operator keys belong to the network, not to a merchant.")
	case k.Role != RoleOperator && !ValidMerchantID(k.Merchant):
		return edge.Errorf(edge.EINVALID, "An %s key belongs to a merchant.", k.Role)
	}
	return nil
}
