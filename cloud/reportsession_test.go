package cloud_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// keyStore is an in-memory store of API keys and secrets.
type keyStore struct {
	keys    map[string]cloud.APIKey
	secrets map[string][]byte
}

func (s *keyStore) FindAPIKey(_ context.Context, hash []byte) (cloud.APIKey, error) {
	k, ok := s.keys[string(hash)]
	if !ok {
		return k, edge.Errorf(edge.ENOTFOUND, "no key")
	}
	return k, nil
}

func (s *keyStore) Secret(_ context.Context, name string, gen func() []byte) ([]byte, error) {
	if s.secrets[name] == nil {
		s.secrets[name] = gen()
	}
	return s.secrets[name], nil
}

func TestReportSessions(t *testing.T) {
	ctx := context.Background()
	st := &keyStore{keys: map[string]cloud.APIKey{}, secrets: map[string][]byte{}}
	for secret, k := range map[string]cloud.APIKey{
		"iss": {Role: cloud.RoleIssuer, Merchant: "acme"}, "op": {Role: cloud.RoleOperator}, "par": {Role: cloud.RolePartner, Merchant: "acme"},
	} {
		k.Hash = cloud.HashSecret(secret)
		st.keys[string(k.Hash)] = k
	}
	rs := &cloud.ReportSessions{Store: st}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

	token, k, err := rs.SignIn(ctx, " iss ", now)
	if err != nil || k.Merchant != "acme" || strings.Contains(token, "iss") {
		t.Fatalf("SignIn(iss) = %q, %+v, %v", token, k, err)
	}
	if k, err := rs.Check(ctx, token, now.Add(cloud.ReportSessionTTL-time.Second)); err != nil || k.Scope() != cloud.MerchantScope("acme") {
		t.Errorf("Check before expiry = %+v, %v", k, err)
	}
	opToken, _, _ := rs.SignIn(ctx, "op", now)
	parts := strings.Split(token, ".")
	opParts := strings.Split(opToken, ".")
	bad := map[string]string{
		"expired":        token,
		"forged key":     opParts[0] + "." + parts[1] + "." + parts[2],
		"longer expiry":  parts[0] + ".99999999999." + parts[2],
		"no signature":   parts[0] + "." + parts[1],
		"empty":          "",
		"garbage":        "a.b.c",
		"signature of 2": parts[0] + "." + parts[1] + "." + opParts[2],
	}
	for name, tok := range bad {
		at := now
		if name == "expired" {
			at = now.Add(cloud.ReportSessionTTL)
		}
		if _, err := rs.Check(ctx, tok, at); edge.ErrorCode(err) != edge.EUNAUTHORIZED {
			t.Errorf("%s: Check = %v, want UNAUTHORIZED", name, err)
		}
	}
	if _, _, err := rs.SignIn(ctx, "par", now); edge.ErrorCode(err) != edge.EFORBIDDEN {
		t.Errorf("partner key: %v, want FORBIDDEN", err)
	}
	if _, _, err := rs.SignIn(ctx, "nope", now); edge.ErrorCode(err) != edge.EUNAUTHORIZED {
		t.Errorf("unknown key: %v, want UNAUTHORIZED", err)
	}
	// A key revoked (gone from the store) ends its sessions.
	delete(st.keys, string(cloud.HashSecret("iss")))
	if _, err := rs.Check(ctx, token, now); edge.ErrorCode(err) != edge.EUNAUTHORIZED {
		t.Errorf("revoked key: %v, want UNAUTHORIZED", err)
	}
}
