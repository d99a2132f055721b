package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
	"github.com/comptoir/comptoir/ui"
)

const staffUsage = `usage:
  comptoir-edge staff add --data DIR --name NAME --role clerk|manager --pin PIN
  comptoir-edge staff list --data DIR
  comptoir-edge staff disable --data DIR --id ID|NAME`

func staffCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", staffUsage)
	}
	fs := flag.NewFlagSet("staff "+args[0], flag.ContinueOnError)
	dir := fs.String("data", DefaultConfig().DataDir, "data directory")
	var name, role, pin, id *string
	switch args[0] {
	case "add":
		name = fs.String("name", "", "name of the member of staff")
		role = fs.String("role", edge.RoleClerk, "clerk or manager")
		pin = fs.String("pin", "", "PIN, 4 to 12 digits (a manager's at least 6)")
	case "list":
	case "disable":
		id = fs.String("id", "", "id (or exact name) of the account to disable")
	default:
		return fmt.Errorf("unknown staff command %q\n%s", args[0], staffUsage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
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

	switch args[0] {
	case "add":
		if *name == "" || !edge.ValidRole(*role) {
			return fmt.Errorf("staff add: --name and --role clerk|manager are required")
		}
		st, err := addStaff(ctx, j, *name, *role, *pin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s %s (%s)\n", st.Role, st.Name, st.ID)
	case "list":
		all, err := j.ListStaff(ctx)
		if err != nil {
			return fmt.Errorf("staff list: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATE")
		for _, st := range all {
			state := "active"
			if st.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", st.ID, st.Name, st.Role, state)
		}
		return tw.Flush()
	case "disable":
		if *id == "" {
			return fmt.Errorf("staff disable: --id is required")
		}
		st, err := edge.DisableStaff(ctx, j, *id)
		if err != nil {
			return fmt.Errorf("staff disable: %s", edge.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "disabled %s %s (%s)\n", st.Role, st.Name, st.ID)
	}
	return nil
}

// addStaff creates an account whose PIN is hashed with bcrypt (ui.HashPIN).
func addStaff(ctx context.Context, store edge.StaffStore, name, role, pin string) (edge.Staff, error) {
	st, err := edge.AddStaff(ctx, store, ui.PINHasher, name, role, pin)
	if err != nil {
		if code := edge.ErrorCode(err); code != edge.EINTERNAL {
			return edge.Staff{}, fmt.Errorf("staff add: %s", edge.ErrorMessage(err))
		}
		return edge.Staff{}, fmt.Errorf("staff add: %w", err)
	}
	return st, nil
}
