package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
)

func staffCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: comptoir-edge staff add --data DIR --name NAME --role clerk|manager --pin PIN")
	}
	fs := flag.NewFlagSet("staff add", flag.ContinueOnError)
	dir := fs.String("data", DefaultConfig().DataDir, "data directory")
	name := fs.String("name", "", "name of the member of staff")
	role := fs.String("role", edge.RoleClerk, "clerk or manager")
	pin := fs.String("pin", "", "PIN, 4 to 12 digits")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" || !edge.ValidRole(*role) {
		return fmt.Errorf("staff add: --name and --role clerk|manager are required")
	}
	e, err := readEnrollment(*dir)
	if err != nil {
		return err
	}
	j, err := journal.Open(journalDir(*dir), journal.Config{Terminal: e.Terminal})
	if err != nil {
		return err
	}
	defer j.Close()
	st, err := addStaff(ctx, j, *name, *role, *pin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s %s (%s)\n", st.Role, st.Name, st.ID)
	return nil
}

func addStaff(ctx context.Context, store edge.StaffStore, name, role, pin string) (edge.Staff, error) {
	hash, err := edge.HashPIN(pin)
	if err != nil {
		return edge.Staff{}, fmt.Errorf("staff add: %w", err)
	}
	st := edge.Staff{ID: edge.NewID(), Name: name, Role: role, PINHash: hash}
	if err := store.PutStaff(ctx, st); err != nil {
		return edge.Staff{}, fmt.Errorf("staff add: %w", err)
	}
	return st, nil
}
