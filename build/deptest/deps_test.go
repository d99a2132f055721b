// Package deptest enforces the dependency rules of DESIGN.md, as tailscale's
// deptest does: the domain imports no technology, adapters do not import one
// another, and nothing outside cloud/ imports the cloud.
package deptest

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/comptoir/comptoir"

// shared is the vocabulary any package may import.
var shared = []string{module + "/edge", module + "/sync/wire", module + "/sync/strictjson", module + "/scanner/token"}

// adapters may import edge and the shared vocabulary, never one another.
var adapters = []string{
	module + "/edge/journal", module + "/scanner", module + "/printer",
	module + "/sync/uplink", module + "/ui", module + "/edge/scale",
}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 8 {
		t.Fatalf("go list found %d packages; expected the whole module", len(pkgs))
	}
	return pkgs
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

func TestDependencyRules(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			if reason := violation(p.ImportPath, imp); reason != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, reason)
			}
		}
	}
}

// violation returns why from may not import imp, or "".
func violation(from, imp string) string {
	internal := under(imp, module)
	switch {
	case from == module+"/edge":
		if !isStd(imp) && imp != "github.com/google/uuid" {
			return "the domain imports only the standard library and uuid"
		}
	case under(from, module+"/edge/journal") && imp == module+"/sync/wire":
		return "the journal takes its limits through its config, not from the protocol"
	case under(imp, module+"/cloud") && !under(from, module+"/cloud") && !strings.Contains(from, "/cmd/"):
		return "nothing outside cloud/ imports the cloud"
	case under(from, module+"/cloud") && internal && !under(imp, module+"/cloud") && !sharedPkg(imp):
		return "the cloud imports only edge and the shared vocabulary"
	case isAdapter(from) && internal && !sharedPkg(imp) && imp != module+"/build/testenv" && !sameAdapter(from, imp):
		return "adapters import only edge and the shared vocabulary, never one another"
	}
	return ""
}

func sharedPkg(p string) bool {
	for _, s := range shared {
		if p == s {
			return true
		}
	}
	return false
}

// adapterOf returns the adapter a package belongs to, or "".
func adapterOf(p string) string {
	best := ""
	for _, a := range adapters {
		if under(p, a) && len(a) > len(best) {
			best = a
		}
	}
	if best == module+"/scanner" && under(p, module+"/scanner/token") {
		return ""
	}
	return best
}

func isAdapter(p string) bool { return adapterOf(p) != "" }

// sameAdapter lets an adapter's own subpackages import one another.
func sameAdapter(from, imp string) bool { return adapterOf(from) == adapterOf(imp) }

func TestViolationCatchesBreaches(t *testing.T) {
	tests := []struct{ from, imp string }{
		{module + "/edge", "github.com/dgraph-io/badger/v4"},
		{module + "/edge", module + "/edge/journal"},
		{module + "/ui", module + "/scanner"},
		{module + "/printer", module + "/edge/journal"},
		{module + "/sync/uplink", module + "/cloud/ingest"},
		{module + "/cloud/ingest", module + "/sync/uplink"},
		{module + "/edge/journal", module + "/sync/wire"},
	}
	for _, tt := range tests {
		if violation(tt.from, tt.imp) == "" {
			t.Errorf("%s importing %s was allowed", tt.from, tt.imp)
		}
	}
	for _, ok := range []struct{ from, imp string }{
		{module + "/ui", module + "/edge"},
		{module + "/scanner", module + "/scanner/token"},
		{module + "/cloud/ingest", module + "/sync/wire"},
		{module + "/edge/cmd/comptoir-edge", module + "/ui"},
	} {
		if r := violation(ok.from, ok.imp); r != "" {
			t.Errorf("%s importing %s refused: %s", ok.from, ok.imp, r)
		}
	}
}
