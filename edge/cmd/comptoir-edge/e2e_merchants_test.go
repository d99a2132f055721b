package main

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// TestMerchantCodesAtTerminal: a terminal enrolled before a merchant
// existed verifies that merchant's codes once the trust topic brings its
// key; a code signed with one merchant's key but claiming another is
// refused by the terminal itself, offline (UNKNOWN_ISSUER).
func TestMerchantCodesAtTerminal(t *testing.T) {
	cl, _, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cl.Close()
	_, kiosk := enrolledTerminal(t, cl, operator, "term-merchants", "Relais Marchands")

	for _, id := range []string{"acme", "bolt"} {
		var out struct {
			IssuerKey string `json:"issuer_key"`
		}
		if code := operator.do("POST", "/v1/merchants", map[string]string{"id": id, "name": "Shop " + id}, &out); code != http.StatusCreated {
			t.Fatalf("create merchant %s: status %d", id, code)
		}
		if id == "acme" {
			acme := newClient(t, cl.HTTPURL())
			acme.key = out.IssuerKey
			ra := createReturn(t, acme)
			deadline := time.Now().Add(20 * time.Second)
			for {
				var scan scanResult
				kiosk.do("POST", "/api/scan", map[string]string{"code": ra.Token}, &scan)
				if scan.Eligible {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("acme's code never verified at the terminal: %+v", scan)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	keys, err := cl.Store().SigningKeys(context.Background(), cloud.MerchantScope("acme"))
	if err != nil || len(keys) != 1 {
		t.Fatalf("acme's keys = %+v, %v", keys, err)
	}
	acmeKey, err := keys[0].TokenKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	claimBolt := signRA(t, acmeKey, s10(4242), func(ra *edge.ReturnAuthorisation) { ra.Issuer = "bolt" })
	claimAcme := signRA(t, acmeKey, s10(4243), func(ra *edge.ReturnAuthorisation) { ra.Issuer = "acme" })

	// The cloud goes away: what follows is the terminal alone.
	cl.Close()
	var scan scanResult
	if code := kiosk.do("POST", "/api/scan", map[string]string{"code": claimBolt}, &scan); code != http.StatusOK {
		t.Fatalf("scan: status %d", code)
	}
	if scan.Eligible || !slices.Contains(scan.Refusals, string(edge.UnknownIssuer)) {
		t.Fatalf("code claiming bolt signed with acme's key: %+v, want refused UNKNOWN_ISSUER", scan)
	}
	scan = scanResult{}
	kiosk.do("POST", "/api/scan", map[string]string{"code": claimAcme}, &scan)
	if !scan.Eligible {
		t.Fatalf("acme's own code offline: %+v, want eligible", scan)
	}
}
