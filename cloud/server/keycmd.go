package server

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// KeyID is how keys list shows a key and keys revoke names it: the first
// 12 hex digits of its hash (the key itself is shown once, at keys add).
func KeyID(k cloud.APIKey) string { return hex.EncodeToString(k.Hash)[:12] }

// Keys runs "comptoir-cloud keys add|list|revoke" on the store that serve
// would open (--data, --store, --pg); with Badger, serve must be stopped
// (one process owns its directory), PostgreSQL takes it while instances run.
//
//	keys add --role issuer|partner --merchant ID --name NAME   prints the key, once
//	keys add --role operator --name NAME                       a key of the network
//	keys list                                                  id, role, merchant, name
//	keys revoke ID|NAME                                   deletes the key
func Keys(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("keys: add, list or revoke")
	}
	sub, args := args[0], args[1:]
	m := NewMain()
	c := &m.Config
	fs := flag.NewFlagSet("comptoir-cloud keys "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory")
	fs.StringVar(&c.Store, "store", c.Store, "badger or postgres")
	fs.StringVar(&c.PGDSN, "pg", envOr("COMPTOIR_PG", c.PGDSN), "PostgreSQL DSN")
	role := fs.String("role", "", "role of the new key: issuer, operator or partner")
	name := fs.String("name", "", "name of the new key (who holds it)")
	merchant := fs.String("merchant", "", "merchant of an issuer or partner key")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("keys %s: %w", sub, err)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	switch sub {
	case "add":
		if !cloud.Role(*role).Valid() {
			return fmt.Errorf("keys add: --role must be issuer, operator or partner")
		}
		if *name == "" || len(*name) > 200 {
			return fmt.Errorf("keys add: --name must name who holds the key (up to 200 bytes)")
		}
		if cloud.Role(*role) == cloud.RoleOperator && *merchant != "" {
			return fmt.Errorf("keys add: operator keys belong to the network: drop --merchant")
		}
		if cloud.Role(*role) != cloud.RoleOperator && !cloud.ValidMerchantID(*merchant) {
			return fmt.Errorf("keys add: an %s key needs --merchant ID (see GET /v1/merchants)", *role)
		}
	case "list":
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("keys revoke: give one key id (from keys list) or name")
		}
	default:
		return fmt.Errorf("keys: unknown command %q (add, list or revoke)", sub)
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	defer m.store.Close()

	switch sub {
	case "add":
		if *merchant != "" {
			if _, err := m.store.FindMerchant(ctx, cloud.Network, *merchant); err != nil {
				return fmt.Errorf("keys add: %s (create it with POST /v1/merchants)", edge.ErrorMessage(err))
			}
		}
		ms := &cloud.Merchants{Store: m.store}
		key, err := ms.AddAPIKey(ctx, *merchant, cloud.Role(*role), *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n", key)
		return nil
	case "list":
		keys, err := m.store.APIKeys(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tROLE\tMERCHANT\tNAME")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", KeyID(k), k.Role, orDash(k.Merchant), k.Name)
		}
		return w.Flush()
	default: // revoke
		keys, err := m.store.APIKeys(ctx)
		if err != nil {
			return err
		}
		want := fs.Arg(0)
		var match []cloud.APIKey
		for _, k := range keys {
			if KeyID(k) == strings.ToLower(want) || k.Name == want {
				match = append(match, k)
			}
		}
		switch len(match) {
		case 0:
			return edge.Errorf(edge.ENOTFOUND, "No API key has id or name %q (see keys list).", want)
		case 1:
		default:
			return edge.Errorf(edge.ECONFLICT, "%d keys are named %q: revoke by id (see keys list).", len(match), want)
		}
		if err := m.store.DeleteAPIKey(ctx, match[0].Hash); err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked %s (%s, %s)\n", KeyID(match[0]), match[0].Role, match[0].Name)
		return nil
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
