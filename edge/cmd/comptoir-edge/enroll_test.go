package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnrollOperatorKeySources enrols terminals with a real in-process
// cloud, the operator key given on standard input and in the environment,
// never in argv; a wrong key from either is refused by the cloud.
func TestEnrollOperatorKeySources(t *testing.T) {
	cloud, _, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	old := stdin
	t.Cleanup(func() { stdin = old })

	enroll := func(tid, flagKey string) (string, error) {
		dir := t.TempDir()
		args := []string{"enroll", "--cloud", cloud.HTTPURL(), "--terminal", tid, "--data", dir}
		if flagKey != "" {
			args = append(args, "--operator-key", flagKey)
		}
		var out bytes.Buffer
		err := run(context.Background(), args, &out, &out)
		if err == nil {
			if _, statErr := os.Stat(filepath.Join(dir, enrollmentFile)); statErr != nil {
				t.Errorf("%s enrolled without %s: %v", tid, enrollmentFile, statErr)
			}
		}
		return out.String(), err
	}

	stdin = strings.NewReader(operator.key + "\n")
	if _, err := enroll("term-key-stdin", "-"); err != nil {
		t.Errorf("key on standard input: %v", err)
	}
	t.Setenv(operatorKeyEnv, operator.key)
	stdin = strings.NewReader("")
	if _, err := enroll("term-key-env", ""); err != nil {
		t.Errorf("key in $%s: %v", operatorKeyEnv, err)
	}
	stdin = strings.NewReader("not-the-key\n")
	if _, err := enroll("term-key-bad", "-"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong key on standard input: %v, want the cloud's 401", err)
	}
	t.Setenv(operatorKeyEnv, "")
	if _, err := enroll("term-key-none", ""); err == nil || !strings.Contains(err.Error(), operatorKeyEnv) {
		t.Errorf("no key at all: %v, want an error naming $%s", err, operatorKeyEnv)
	}
}
