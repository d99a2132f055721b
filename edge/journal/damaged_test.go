package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRecovering: a journal whose files Badger refuses is moved aside
// (kept whole), a new one starts, numbered above every seq the old one
// handed out, and a lock or a wrong key never counts as damage.
func TestOpenRecovering(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	j := MustOpen(t, dir, Config{})
	var last uint64
	for i := range 3 {
		last = MustAppend(t, j, depositOp("T"+string(rune('1'+i)), "ra", "A")).Seq
	}
	j.Close()

	// Another process holding the journal is not damage.
	held := MustOpen(t, dir, Config{})
	if _, _, _, err := OpenRecovering(dir, Config{Terminal: testTerminal}); !errors.Is(err, ErrInUse) {
		t.Fatalf("journal in use: got %v, want ErrInUse", err)
	}
	held.Close()

	// Damage: the manifest overwritten with garbage.
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte(strings.Repeat("garbage ", 64)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Config{Terminal: testTerminal}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("open of a damaged journal: got %v, want ErrDamaged", err)
	}
	j, aside, damage, err := OpenRecovering(dir, Config{Terminal: testTerminal})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if !errors.Is(damage, ErrDamaged) || !strings.HasPrefix(aside, dir+".damaged-") {
		t.Fatalf("damage %v, kept at %q", damage, aside)
	}
	if b, err := os.ReadFile(filepath.Join(aside, "MANIFEST")); err != nil || !strings.HasPrefix(string(b), "garbage") {
		t.Errorf("the damaged journal was not kept as it was: %v", err)
	}
	op := MustAppend(t, j, depositOp("T9", "ra", "A"))
	if op.Seq <= last {
		t.Errorf("first seq of the new journal %d, not above the old one's %d", op.Seq, last)
	}
	if pending, err := j.Pending(t.Context(), 0, 0); err != nil || len(pending) != 1 || pending[0].Seq != op.Seq {
		t.Errorf("outbox of the new journal: %v, %v", pending, err)
	}
}
