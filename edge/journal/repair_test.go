package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEmptyLogAfterPowerCut: a power cut between the creation of a
// memtable's log or a value-log file and its first sync leaves it empty;
// Badger alone then refuses to open (dgraph-io/badger#2207).
func TestEmptyLogAfterPowerCut(t *testing.T) {
	for _, name := range []string{"00099.mem", "000099.vlog"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			j := MustOpen(t, dir, Config{})
			MustAppend(t, j, depositOp("T1", "ra-1", "A1"))
			j.Close()
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			j = MustOpen(t, dir, Config{})
			defer j.Close()
			if j.LastSeq() != 1 {
				t.Errorf("last seq %d after reopening, want 1", j.LastSeq())
			}
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				// Badger made a new one of that name: it is not empty.
				if st, _ := os.Stat(filepath.Join(dir, name)); st.Size() == 0 {
					t.Errorf("%s is still empty", name)
				}
			}
		})
	}
}
