package powerfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	Serve()
	os.Exit(m.Run())
}

func write(t *testing.T, path, data string, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

func read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// TestCut shows what a power cut keeps: synced content under a synced
// directory entry, and nothing else.
func TestCut(t *testing.T) {
	p := Mount(t)
	d := p.Dir
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A new file synced is durable with its name (as on ext4), then
	// appended to without a sync.
	write(t, filepath.Join(d, "kept"), "synced", true)
	// A new file never synced is gone, name and all.
	write(t, filepath.Join(d, "new"), "never synced", false)
	f, err := os.OpenFile(filepath.Join(d, "kept"), os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	_, err = f.WriteString(" and lost")
	must(err)
	must(f.Close())
	// A removal and a rename not followed by a sync of the directory
	// are undone.
	must(os.Mkdir(filepath.Join(d, "sub"), 0o755))
	write(t, filepath.Join(d, "sub", "a"), "in sub", true)
	write(t, filepath.Join(d, "sub", "gone"), "removed", true)
	syncDir(t, filepath.Join(d, "sub"))
	must(os.Rename(filepath.Join(d, "sub", "a"), filepath.Join(d, "sub", "b")))
	must(os.Remove(filepath.Join(d, "sub", "gone")))

	if got := read(filepath.Join(d, "kept")); got != "synced and lost" {
		t.Fatalf("before the cut: kept = %q", got)
	}
	must(p.Cut())
	if _, err := os.ReadFile(filepath.Join(d, "kept")); err == nil {
		t.Fatal("a read after the cut succeeded")
	}
	must(p.Restart())

	for _, tt := range []struct{ path, want string }{
		{"kept", "synced"},
		{"sub/gone", "removed"},
		{"new", "<open " + filepath.Join(d, "new") + ": no such file or directory>"},
		{"sub/a", "in sub"},
		{"sub/b", "<open " + filepath.Join(d, "sub/b") + ": no such file or directory>"},
	} {
		if got := read(filepath.Join(d, tt.path)); got != tt.want {
			t.Errorf("after the cut, %s = %q, want %q", tt.path, got, tt.want)
		}
	}
	st, err := p.Stats()
	must(err)
	if st.Cuts != 1 || st.LostPages == 0 || st.LostEntries == 0 {
		t.Errorf("stats %+v: want one cut that lost pages and entries", st)
	}
}
