package cloud

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// ReportSessionTTL is how long a sign-in to the report page lasts.
const ReportSessionTTL = 8 * time.Hour

// ReportSessions signs people in to the report page with their API key (an
// issuer key: its merchant's figures; an operator key: the network's). The
// session is a token naming the key's hash and an expiry, signed with a
// secret of the store (shared by the cloud's instances): the browser never
// keeps the key, and a key revoked is refused at the next page.
type ReportSessions struct {
	Store interface {
		FindAPIKey(ctx context.Context, hash []byte) (APIKey, error)
		Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error)
	}
}

// reportRoles may read the report page.
var reportRoles = []Role{RoleIssuer, RoleOperator}

// SignIn checks secret (an API key) and returns the token of a session
// that ends at now plus ReportSessionTTL: EUNAUTHORIZED for an unknown
// key, EFORBIDDEN for a partner key.
func (rs *ReportSessions) SignIn(ctx context.Context, secret string, now time.Time) (string, APIKey, error) {
	k, err := rs.key(ctx, HashSecret(strings.TrimSpace(secret)))
	if err != nil {
		return "", APIKey{}, err
	}
	payload := hex.EncodeToString(k.Hash) + "." + strconv.FormatInt(now.Add(ReportSessionTTL).Unix(), 10)
	mac, err := rs.mac(ctx, payload)
	if err != nil {
		return "", APIKey{}, err
	}
	return payload + "." + mac, k, nil
}

// Check returns the key of a session token at now: EUNAUTHORIZED when the
// token is malformed, forged, expired or its key no longer valid.
func (rs *ReportSessions) Check(ctx context.Context, token string, now time.Time) (APIKey, error) {
	bad := edge.Errorf(edge.EUNAUTHORIZED, "Sign in with your API key.")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return APIKey{}, bad
	}
	mac, err := rs.mac(ctx, parts[0]+"."+parts[1])
	if err != nil {
		return APIKey{}, err
	}
	if !hmac.Equal([]byte(mac), []byte(parts[2])) {
		return APIKey{}, bad
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	hash, herr := hex.DecodeString(parts[0])
	if err != nil || herr != nil || !now.Before(time.Unix(exp, 0)) {
		return APIKey{}, bad
	}
	return rs.key(ctx, hash)
}

// key returns the valid key of hash that may read reports.
func (rs *ReportSessions) key(ctx context.Context, hash []byte) (APIKey, error) {
	k, err := rs.Store.FindAPIKey(ctx, hash)
	if edge.ErrorCode(err) == edge.ENOTFOUND {
		return APIKey{}, edge.Errorf(edge.EUNAUTHORIZED, "The API key is not valid.")
	} else if err != nil {
		return APIKey{}, err
	}
	if !hmac.Equal(k.Hash, hash) || k.Check() != nil {
		return APIKey{}, edge.Errorf(edge.EUNAUTHORIZED, "The API key is not valid.")
	}
	if !slices.Contains(reportRoles, k.Role) {
		return APIKey{}, edge.Errorf(edge.EFORBIDDEN, "An API key of role %s cannot read reports.", k.Role)
	}
	return k, nil
}

func (rs *ReportSessions) mac(ctx context.Context, payload string) (string, error) {
	secret, err := rs.Store.Secret(ctx, "report-sessions", func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}
