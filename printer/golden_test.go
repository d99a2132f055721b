package printer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden compares the bytes of fixed documents with testdata; run
// go test ./printer -run TestGolden -update to rewrite them after a deliberate
// change, and review the diff.
func TestGolden(t *testing.T) {
	tests := []struct {
		file   string
		render func() ([]byte, error)
	}{
		{"label_203.zpl", func() ([]byte, error) { return Renderer{DPI: 203}.Label(fixedLabel()) }},
		{"label_300.zpl", func() ([]byte, error) { return Renderer{DPI: 300}.Label(fixedLabel()) }},
		{"receipt_80mm.bin", func() ([]byte, error) {
			return Renderer{Paper: Paper80mm, Location: paris}.Receipt(fixedReceipt())
		}},
		{"receipt_58mm.bin", func() ([]byte, error) {
			return Renderer{Paper: Paper58mm, Location: paris}.Receipt(fixedReceipt())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from the golden file (run with -update after a deliberate change)\n got %q\nwant %q", tt.file, got, want)
			}
		})
	}
}
