package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/wire"
)

// Enrollment is what the cloud gave this terminal, kept in DIR/enrollment.json
// with owner-only permissions (it holds the MQTT password).
type Enrollment struct {
	Terminal string `json:"terminal"`
	Name     string `json:"name"`
	Cloud    string `json:"cloud"`
	MQTT     struct {
		URL      string `json:"url"`
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"mqtt"`
	// SeqFloor is the highest seq the cloud held of this terminal id when
	// it was enrolled (a device replaced): the journal numbers its
	// operations above it.
	SeqFloor uint64 `json:"seq_floor,omitempty"`
}

const (
	enrollmentFile = "enrollment.json"
	receiptKeyFile = "receipt.key"
	trustFile      = "trust.json"
)

// errNotEnrolled is returned by readEnrollment for a directory that holds
// no enrolment.
var errNotEnrolled = errors.New("terminal not enrolled")

func readEnrollment(dir string) (Enrollment, error) {
	var e Enrollment
	b, err := os.ReadFile(filepath.Join(dir, enrollmentFile))
	if os.IsNotExist(err) {
		return e, fmt.Errorf("%w in %s: run comptoir-edge enroll first", errNotEnrolled, dir)
	} else if err != nil {
		return e, fmt.Errorf("read enrollment: %w", err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("read enrollment %s: %w", filepath.Join(dir, enrollmentFile), err)
	}
	return e, nil
}

// writePrivate writes a file readable by its owner only, atomically and
// durably: the data is synced before the file is renamed into place, and
// the directory after, so that a power cut leaves the old file or the new
// one, never an empty one (a terminal cut right after its enrolment, or
// after a trust-list update, would not start again: TestAgentPowerCut).
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func enrollCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("enroll", stderr)
	cloud := fs.String("cloud", "", "cloud base URL, e.g. http://127.0.0.1:8080")
	key := fs.String("operator-key", "", "operator API key; - reads it from standard input (default $"+operatorKeyEnv+")")
	tid := fs.String("terminal", "", "terminal id ([a-z0-9-]{3,64})")
	name := fs.String("name", "", "relay point name shown on receipts")
	dir := fs.String("data", DefaultConfig().DataDir, "data directory")
	if rest, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return fmt.Errorf("enroll: unexpected argument %q", rest[0])
	}
	opKey, err := operatorKey(*key, stdin, os.Getenv)
	if err != nil {
		return err
	}
	switch {
	case *cloud == "" || opKey == "" || *tid == "":
		return fmt.Errorf("enroll: --cloud, the operator key (--operator-key -, or $%s) and --terminal are required", operatorKeyEnv)
	case !wire.ValidTerminalID(*tid):
		return fmt.Errorf("enroll: terminal id %q must match [a-z0-9-]{3,64}", *tid)
	}
	if *name == "" {
		*name = *tid
	}
	e, err := Enroll(ctx, *cloud, opKey, *tid, *name, *dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolled terminal %s with %s; broker %s; data in %s\n", e.Terminal, e.Cloud, e.MQTT.URL, *dir)
	return nil
}

// operatorKeyEnv names the environment variable that may hold the operator
// key, so that it need not be in argv (which every user of the machine can
// read in /proc, and shells keep in their history).
const operatorKeyEnv = "COMPTOIR_OPERATOR_KEY"

// stdin is where `--operator-key -` reads the key; tests replace it.
var stdin io.Reader = os.Stdin

// operatorKey returns the operator key: the flag's value, its first line of
// in when the flag is "-", else the environment variable's value.
func operatorKey(flagValue string, in io.Reader, getenv func(string) string) (string, error) {
	switch flagValue {
	case "-":
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("enroll: read the operator key from standard input: %w", err)
		}
		return strings.TrimSpace(line), nil
	case "":
		return strings.TrimSpace(getenv(operatorKeyEnv)), nil
	}
	return flagValue, nil
}

// Enroll registers terminal tid and its receipt-signing public key with the
// cloud, and stores the credentials and trust list it answers in dir.
func Enroll(ctx context.Context, cloudURL, operatorKey, tid, name, dir string) (Enrollment, error) {
	key, _, err := token.LoadOrCreateKey(filepath.Join(dir, receiptKeyFile), tid)
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: receipt key: %w", err)
	}
	body, _ := json.Marshal(map[string]string{
		"id": tid, "name": name, "receipt_public_key": token.EncodePublicKey(key.Public()),
	})
	cloudURL = strings.TrimRight(cloudURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cloudURL+"/v1/terminals", bytes.NewReader(body))
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: cloud unreachable: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return Enrollment{}, fmt.Errorf("enroll: cloud answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	var ans struct {
		Enrollment
		Trust json.RawMessage `json:"trust"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return Enrollment{}, fmt.Errorf("enroll: bad answer: %w", err)
	}
	e := ans.Enrollment
	e.Name, e.Cloud = name, cloudURL
	b, _ := json.MarshalIndent(e, "", "  ")
	if err := writePrivate(filepath.Join(dir, enrollmentFile), b); err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	if len(ans.Trust) > 0 {
		if err := writePrivate(filepath.Join(dir, trustFile), ans.Trust); err != nil {
			return Enrollment{}, fmt.Errorf("enroll: %w", err)
		}
	}
	return e, nil
}
