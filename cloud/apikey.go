package cloud

// Role is what an API key may do.
type Role string

// Roles of API keys.
const (
	// RoleIssuer creates return authorisations (merchants, returns platforms).
	RoleIssuer Role = "issuer"
	// RoleOperator enrols and watches terminals (fleet operators).
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
}
