package scale

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotASerialLine: a configured device that is not a tty (a wrong
// path) is refused with a message that says so, not read as a scale.
func TestNotASerialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyUSB0")
	if err := os.WriteFile(path, []byte("S S 1.000 kg\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := openSerial(path, 9600); err == nil || !strings.Contains(err.Error(), "not a serial line") {
		f.Close()
		t.Fatalf("openSerial of a plain file: %v", err)
	}
	if _, err := openSerial(filepath.Join(t.TempDir(), "none"), 9600); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("openSerial of nothing: %v", err)
	}
}
