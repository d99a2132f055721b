package server_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// TestLegacyDataAdopted starts a cloud on a data directory written before
// merchants existed (one issuer.key, a return and an issuer key with no
// merchant, in Badger's old form): its codes still verify, its key still
// reads its return, and its tracking number stays taken.
func TestLegacyDataAdopted(t *testing.T) {
	dir := t.TempDir()
	k, _, err := token.LoadOrCreateKey(filepath.Join(dir, "issuer.key"), "iss-old")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	ra := edge.ReturnAuthorisation{Issuer: "comptoir", ID: "0190aaaa-0000-7000-8000-000000000001", IssuedAt: now,
		ExpiresAt: now.Add(24 * time.Hour), Tracking: "LEGACY00001", Items: []edge.Item{{SKU: "A1", Qty: 1}}}
	tok, err := token.SignRA(k, ra)
	if err != nil {
		t.Fatal(err)
	}
	const oldKey = "iss_legacy-key"
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "store")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		r, _ := json.Marshal(map[string]any{"ra_id": ra.ID, "tracking": ra.Tracking, "carrier": "DEMO", "token": tok, "created_at": now, "expires_at": ra.ExpiresAt})
		if err := txn.Set([]byte("r/"+ra.ID), r); err != nil {
			return err
		}
		h := cloud.HashSecret(oldKey)
		ak, _ := json.Marshal(map[string]any{"hash": h, "role": "issuer", "name": "issuer"})
		return txn.Set([]byte("k/"+hex.EncodeToString(h)), ak)
	})
	if err != nil || db.Close() != nil {
		t.Fatal(err)
	}

	m := MustRun(t, dir)
	list := m.Trust().List()
	if iss, bound := list.Issuer("iss-old"); !bound || iss != "comptoir" {
		t.Fatalf("legacy key bound to %q, %v; want comptoir", iss, bound)
	}
	if _, err := token.VerifyRA(list, tok, now); err != nil {
		t.Fatalf("legacy code: %v", err)
	}
	if st := call(t, "GET", m.HTTPURL()+"/v1/returns/"+ra.ID, oldKey, nil, nil); st != http.StatusOK {
		t.Fatalf("legacy key reading its return: %d", st)
	}
	demoIssuer, _, _ := m.Demo()
	if st := call(t, "GET", m.HTTPURL()+"/v1/returns/"+ra.ID, demoIssuer, nil, nil); st != http.StatusNotFound {
		t.Fatalf("demo merchant reading the legacy return: %d, want 404", st)
	}
	if st, _ := createReturn(t, m, demoIssuer, map[string]any{"tracking": ra.Tracking}); st != http.StatusConflict {
		t.Fatalf("legacy tracking reused: %d, want 409", st)
	}
}
