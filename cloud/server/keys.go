package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// DemoKeys are the API keys of demo.json, written exactly in this form.
type DemoKeys struct {
	IssuerKey   string `json:"issuer_key"`
	OperatorKey string `json:"operator_key"`
	PartnerKey  string `json:"partner_key"`
}

func newKeys() DemoKeys {
	return DemoKeys{
		IssuerKey:   "iss_" + cloud.RandomSecret(24),
		OperatorKey: "op_" + cloud.RandomSecret(24),
		PartnerKey:  "pt_" + cloud.RandomSecret(24),
	}
}

// Names of files in the data directory.
const (
	issuerKeyFile   = "issuer.key"
	demoFile        = "demo.json"
	initialKeysFile = "initial-keys.json"
	storeDir        = "store"
)

// adoptLegacy takes over the data of a cloud from before merchants: its
// single issuer key (issuer.key) becomes a signing key of the merchant
// named by --issuer-id, still bound to the "iss" its codes carry, and its
// returns and issuer and partner keys become that merchant's. A cloud
// with no issuer.key has nothing to adopt.
func (m *Main) adoptLegacy(ctx context.Context) error {
	path := m.Config.path(issuerKeyFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	k, _, err := token.LoadOrCreateKey(path, "")
	if err != nil {
		return fmt.Errorf("issuer key: %w", err)
	}
	id := m.Config.IssuerID
	if err := m.store.CreateMerchant(ctx, cloud.Merchant{ID: id, Name: id, CreatedAt: time.Now().UTC()}); err != nil && edge.ErrorCode(err) != edge.ECONFLICT {
		return fmt.Errorf("legacy merchant %s: %w", id, err)
	}
	if err := m.merchants.ImportSigningKey(ctx, id, id, k); err != nil {
		return fmt.Errorf("legacy issuer key: %w", err)
	}
	return m.store.AdoptLegacy(ctx, id)
}

// setupKeys makes sure API keys exist. With --demo, the merchant demo
// exists and the keys of demo.json (created at first start) are stored,
// its issuer and partner keys being demo's; without, a first start creates
// the merchant named by --issuer-id and one key of each role (issuer and
// partner of that merchant) and writes them to initial-keys.json, readable
// by the owner only, for the administrator to take and delete. Keys are
// never logged.
func (m *Main) setupKeys(ctx context.Context) error {
	if m.Config.Demo {
		keys, err := loadOrCreateKeysFile(m.Config.path(demoFile))
		if err != nil {
			return err
		}
		m.demo = keys
		if err := m.merchants.EnsureMerchant(ctx, cloud.DemoMerchant, "Demo merchant"); err != nil {
			return err
		}
		return m.putKeys(ctx, keys, cloud.DemoMerchant)
	}
	n, err := m.store.CountAPIKeys(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	path := m.Config.path(initialKeysFile)
	keys, err := loadOrCreateKeysFile(path)
	if err != nil {
		return err
	}
	m.log.Warn("API keys created; take them from the file and delete it", "path", path)
	if err := m.merchants.EnsureMerchant(ctx, m.Config.IssuerID, m.Config.IssuerID); err != nil {
		return err
	}
	return m.putKeys(ctx, keys, m.Config.IssuerID)
}

// putKeys stores the keys of a keys file, the issuer and partner keys as
// merchant's.
func (m *Main) putKeys(ctx context.Context, k DemoKeys, merchant string) error {
	for _, ak := range []struct {
		key      string
		role     cloud.Role
		merchant string
	}{{k.IssuerKey, cloud.RoleIssuer, merchant}, {k.OperatorKey, cloud.RoleOperator, ""}, {k.PartnerKey, cloud.RolePartner, merchant}} {
		if err := m.store.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret(ak.key), Role: ak.role, Name: string(ak.role), Merchant: ak.merchant}); err != nil {
			return fmt.Errorf("api keys: %w", err)
		}
	}
	return nil
}

// loadOrCreateKeysFile reads a keys file, or creates it (0600) with new
// keys.
func loadOrCreateKeysFile(path string) (DemoKeys, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		var k DemoKeys
		if err := json.Unmarshal(data, &k); err != nil || k.IssuerKey == "" || k.OperatorKey == "" || k.PartnerKey == "" {
			return DemoKeys{}, fmt.Errorf("api keys: %s is not a valid keys file; remove it to make new keys", path)
		}
		return k, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return DemoKeys{}, fmt.Errorf("api keys: %w", err)
	}
	k := newKeys()
	data, err = json.Marshal(k)
	if err != nil {
		return DemoKeys{}, fmt.Errorf("api keys: %w", err)
	}
	if err := writeFileSync(path, data, 0o600); err != nil {
		return DemoKeys{}, fmt.Errorf("api keys: %w", err)
	}
	return k, nil
}

// writeFileSync writes a file through a temporary one and a rename, synced,
// so that a crash leaves the old file or the new one.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// openKEK returns the sealer of --kek-file, creating the file (32 random
// bytes, base64url, readable by the owner only) on first start; nil
// without --kek-file. The key is never logged.
func (m *Main) openKEK() (*cloud.Sealer, error) {
	path := m.Config.KEKFile
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data = []byte(cloud.RandomSecret(cloud.KEKSize) + "\n")
		if err := writeFileSync(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("key-encryption key: %w", err)
		}
		m.log.Warn("created a key-encryption key: keep a copy apart from the store's backups; without it the cloud's signing keys sign nothing", "file", path)
	} else if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	kek, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(kek) != cloud.KEKSize {
		return nil, fmt.Errorf("key-encryption key: %s is not %d bytes in base64url", path, cloud.KEKSize)
	}
	return cloud.NewSealer(kek)
}

// sealKeys seals the signing keys stored before --kek-file was given, and
// checks that every sealed key opens; without --kek-file it warns, once,
// that the private halves are stored as they are.
func (m *Main) sealKeys(ctx context.Context) error {
	n, err := m.merchants.SealKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	if n > 0 {
		m.log.Info("sealed signing keys with the key-encryption key", "keys", n)
	}
	if m.sealer == nil {
		m.log.Warn("signing keys are stored unsealed: give --kek-file so that a copy of the store signs no code")
	}
	return nil
}
