package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedJournal: a terminal whose journal no longer opens (its
// manifest overwritten, as a power cut or a failing SD card can leave it)
// still starts and takes deposits, in a new journal numbered above the old
// one; the damaged journal is kept aside, and the status bar and the
// metrics say so.
func TestDamagedJournal(t *testing.T) {
	_, dir := issuerTerminal(t, "t-damaged")
	m, c := startTerminal(t, dir)
	for n := range 3 {
		if code := c.do("POST", "/api/deposits", map[string]any{"code": s10(n + 1), "weight_g": 500}, nil); code != http.StatusCreated {
			t.Fatalf("deposit %d: %d", n, code)
		}
	}
	lastBefore := m.journal.LastSeq()
	m.Close()

	if err := os.WriteFile(filepath.Join(journalDir(dir), "MANIFEST"), []byte(strings.Repeat("garbage ", 64)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, c = startTerminal(t, dir)
	var dep struct {
		Deposit struct {
			Seq uint64 `json:"seq"`
		} `json:"deposit"`
	}
	if code := c.do("POST", "/api/deposits", map[string]any{"code": s10(4), "weight_g": 500}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit after the damage: %d", code)
	}
	var st struct {
		JournalDamaged bool   `json:"journal_damaged"`
		LastSeq        uint64 `json:"last_seq"`
	}
	if code := c.do("GET", "/api/status", nil, &st); code != http.StatusOK {
		t.Fatalf("status: %d", code)
	}
	if !st.JournalDamaged {
		t.Error("status: journal_damaged is off")
	}
	if st.LastSeq <= lastBefore {
		t.Errorf("new journal at seq %d, not above the damaged one's %d", st.LastSeq, lastBefore)
	}
	var metrics []byte
	c.do("GET", "/metrics", nil, &metrics)
	if !strings.Contains(string(metrics), "comptoir_edge_journal_damaged 1") {
		t.Error("metrics: comptoir_edge_journal_damaged is not 1")
	}
	kept, _ := filepath.Glob(journalDir(dir) + ".damaged-*")
	if len(kept) != 1 {
		t.Fatalf("damaged journals kept: %v, want one", kept)
	}
	if b, err := os.ReadFile(filepath.Join(kept[0], "MANIFEST")); err != nil || !strings.HasPrefix(string(b), "garbage") {
		t.Errorf("the damaged journal was not kept as it was: %v", err)
	}
}
