package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
	"github.com/comptoir/comptoir/ui"
)

const staffUsage = `usage:
  comptoir-edge staff add --data DIR --name NAME --role clerk|manager --pin PIN
  comptoir-edge staff list --data DIR
  comptoir-edge staff disable --data DIR --id ID|NAME

DIR is the data directory of comptoir-edge run (.run/edge under make run,
/var/lib/comptoir/edge in the Debian package). The journal there is opened
directly, so stop the terminal first. An encrypted journal needs its key:
the demo key of the data directory is found; otherwise give --key-file FILE
(- reads it from standard input).
`

func staffCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, staffUsage)
		return usageError{errors.New("staff: no command")}
	}
	if slices.Contains([]string{"help", "-h", "-help", "--help"}, args[0]) {
		fmt.Fprint(stdout, staffUsage)
		return nil
	}
	fs := newFlagSet("staff "+args[0], stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), staffUsage+"\nflags of staff "+args[0]+":\n")
		fs.PrintDefaults()
	}
	dir := fs.String("data", DefaultConfig().DataDir, "data directory of the terminal")
	keyFile := fs.String("key-file", "", "file of the journal's encryption key (journal_key_file of the config); - reads it from standard input")
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
		fmt.Fprintf(stderr, "comptoir-edge: unknown staff command %q\n%s", args[0], staffUsage)
		return usageError{fmt.Errorf("unknown staff command %q", args[0])}
	}
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("staff %s: unexpected argument %q", args[0], rest[0])
	}
	j, err := openStaffJournal(fs, args[0], *dir, *keyFile)
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

// openStaffJournal opens the journal of the terminal in dir, with advice
// when dir holds no terminal (often: --data left out) or when the
// terminal runs (Badger lets one process at a time open it).
func openStaffJournal(fs *flag.FlagSet, cmd, dir, keyFile string) (*journal.Journal, error) {
	e, err := readEnrollment(dir)
	if errors.Is(err, errNotEnrolled) {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "data" })
		if !given {
			return nil, fmt.Errorf("staff %s: no terminal in %s, the default data directory: give --data DIR, the data directory of comptoir-edge run (.run/edge under make run, /var/lib/comptoir/edge in the Debian package)", cmd, dir)
		}
		return nil, fmt.Errorf("staff %s: no terminal in %s: enrol it first (comptoir-edge enroll --data %s ...), or give the data directory of comptoir-edge run", cmd, dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("staff %s: %w", cmd, err)
	}
	jkey, err := journalKey(dir, keyFile, false, os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("staff %s: %w", cmd, err)
	}
	j, err := journal.Open(journalDir(dir), journal.Config{Terminal: e.Terminal, EncryptionKey: jkey.key})
	if errors.Is(err, journal.ErrKeyMismatch) {
		return nil, fmt.Errorf("staff %s: the journal in %s is not opened by the key of %s: give its key with --key-file FILE (the journal_key_file of the config), or - to read it from standard input (systemd-creds decrypt /etc/credstore.encrypted/comptoir-journal-key - | comptoir-edge staff ... --key-file -)", cmd, dir, orNone(jkey.from))
	}
	if errors.Is(err, journal.ErrInUse) {
		return nil, fmt.Errorf("staff %s: the terminal's journal in %s is in use by a running comptoir-edge: stop it first (Ctrl-C in make run, or systemctl stop comptoir-edge), then run this again", cmd, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("staff %s: %w", cmd, err)
	}
	return j, nil
}

// pinHasher hashes and checks the staff's PINs: ui.PINHasher (bcrypt at
// ui.PINCost). This package's tests lower its cost (TestMain): they create
// and sign in to hundreds of accounts, each hash taking seconds under the
// race detector.
var pinHasher = ui.PINHasher

// addStaff creates an account whose PIN is hashed with bcrypt (pinHasher).
func addStaff(ctx context.Context, store edge.StaffStore, name, role, pin string) (edge.Staff, error) {
	st, err := edge.AddStaff(ctx, store, pinHasher, name, role, pin)
	if err != nil {
		if code := edge.ErrorCode(err); code != edge.EINTERNAL {
			return edge.Staff{}, fmt.Errorf("staff add: %s", edge.ErrorMessage(err))
		}
		return edge.Staff{}, fmt.Errorf("staff add: %w", err)
	}
	return st, nil
}

func orNone(from string) string {
	if from == "" {
		return "none"
	}
	return from
}
