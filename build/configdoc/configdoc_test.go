// Package configdoc keeps docs/config.md in step with the configuration
// structs of both binaries: a field added to the terminal's Config (or to a
// struct it holds) or to the cloud's Config without a line in the reference
// fails the test, and so does a documented field that no longer exists.
// The structs are read from the source with go/ast, so that this test
// imports neither main package nor cloud/.
package configdoc

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// pkgStructs parses the non-test Go files of dir and returns its struct
// types by name, and its function declarations by name.
func pkgStructs(tb testing.TB, dir string) (map[string]*ast.StructType, map[string]*ast.FuncDecl) {
	tb.Helper()
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	structs, funcs := map[string]*ast.StructType{}, map[string]*ast.FuncDecl{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						if st, ok := ts.Type.(*ast.StructType); ok {
							structs[ts.Name.Name] = st
						}
					}
				}
			case *ast.FuncDecl:
				key := d.Name.Name
				if d.Recv != nil && len(d.Recv.List) == 1 {
					if star, ok := d.Recv.List[0].Type.(*ast.StarExpr); ok {
						if id, ok := star.X.(*ast.Ident); ok {
							key = id.Name + "." + key
						}
					}
				}
				funcs[key] = d
			}
		}
	}
	return structs, funcs
}

// jsonKeys lists the dotted JSON keys of struct st: nested structs of the
// same package (pkgs[local]) or of a package named by its selector
// (pkgs["edge"], loaded by load when absent) are walked, anything else is a
// leaf.
func jsonKeys(st *ast.StructType, prefix string, pkgs map[string]map[string]*ast.StructType, local string, load func(string) map[string]*ast.StructType) []string {
	var keys []string
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			continue // embedded: none today
		}
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			key := n.Name
			if f.Tag != nil {
				tag, _ := strconv.Unquote(f.Tag.Value)
				name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
				if name == "-" {
					continue
				}
				if name != "" {
					key = name
				}
			}
			key = prefix + key
			keys = append(keys, key)
			pkg, typ := local, ""
			switch t := f.Type.(type) {
			case *ast.Ident:
				typ = t.Name
			case *ast.SelectorExpr:
				if x, ok := t.X.(*ast.Ident); ok {
					pkg, typ = x.Name, t.Sel.Name
				}
			}
			if _, ok := pkgs[pkg]; !ok && load != nil {
				pkgs[pkg] = load(pkg)
			}
			if sub, ok := pkgs[pkg][typ]; ok {
				keys = append(keys, jsonKeys(sub, key+".", pkgs, pkg, load)...)
			}
		}
	}
	return keys
}

// section returns the backticked first (and second) cells of the table
// rows under the "## title" heading of doc.
func section(tb testing.TB, doc, title string) (first, second []string) {
	tb.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+title+"\n")
	if !ok {
		tb.Fatalf("docs/config.md has no section %q", title)
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	code := regexp.MustCompile("^`([^`]+)`")
	for _, line := range strings.Split(rest, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "-") {
			continue
		}
		if m := code.FindStringSubmatch(strings.TrimSpace(cells[1])); m != nil {
			first = append(first, m[1])
		}
		if m := code.FindStringSubmatch(strings.TrimSpace(cells[2])); m != nil {
			second = append(second, m[1])
		}
	}
	return first, second
}

func readDoc(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "config.md"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// same reports the differences between what the code has and what the
// doc says.
func same(t *testing.T, what string, code, doc []string) {
	t.Helper()
	if len(code) == 0 {
		t.Fatalf("%s: found nothing in the code", what)
	}
	for _, k := range code {
		if !slices.Contains(doc, k) {
			t.Errorf("%s %q is not documented in docs/config.md", what, k)
		}
	}
	for _, k := range doc {
		if !slices.Contains(code, k) {
			t.Errorf("docs/config.md documents %s %q, which the code does not have", what, k)
		}
	}
}

// TestTerminalConfig: every JSON key of the terminal's Config.
func TestTerminalConfig(t *testing.T) {
	root := testenv.RepoRoot()
	mainStructs, _ := pkgStructs(t, filepath.Join(root, "edge", "cmd", "comptoir-edge"))
	pkgs := map[string]map[string]*ast.StructType{"main": mainStructs}
	// Structs of the repository's packages (edge, printer, ...) are walked
	// too; a package is found by its name as a top-level folder, or a
	// folder of edge (edge/scale).
	load := func(name string) map[string]*ast.StructType {
		for _, dir := range []string{filepath.Join(root, name), filepath.Join(root, "edge", name)} {
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				structs, _ := pkgStructs(t, dir)
				return structs
			}
		}
		return nil
	}
	keys := jsonKeys(mainStructs["Config"], "", pkgs, "main", load)
	doc, _ := section(t, readDoc(t), "Terminal: comptoir-edge run")
	same(t, "terminal config key", keys, doc)
}

// TestCloudConfig: every field of the cloud's Config and every flag of
// `comptoir-cloud serve`.
func TestCloudConfig(t *testing.T) {
	structs, funcs := pkgStructs(t, filepath.Join(testenv.RepoRoot(), "cloud", "server"))
	var fields []string
	for _, f := range structs["Config"].Fields.List {
		for _, n := range f.Names {
			if n.IsExported() {
				fields = append(fields, n.Name)
			}
		}
	}
	var flags []string
	pf := funcs["Config.flagSet"] // the flags of serve, for ParseFlags and ServeUsage
	if pf == nil {
		t.Fatal("no (*Config).flagSet in cloud/server")
	}
	ast.Inspect(pf, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !strings.HasSuffix(sel.Sel.Name, "Var") && !slices.Contains([]string{"String", "Bool", "Int", "Duration"}, sel.Sel.Name) {
			return true
		}
		idx := 1
		if !strings.HasSuffix(sel.Sel.Name, "Var") {
			idx = 0
		}
		if lit, ok := call.Args[idx].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			flags = append(flags, "--"+s)
		}
		return true
	})
	docFlags, docFields := section(t, readDoc(t), "Cloud: comptoir-cloud serve")
	same(t, "cloud config field", fields, docFields)
	same(t, "cloud serve flag", flags, docFlags)
}

// TestShippedConfig: the packaged /etc/comptoir/edge.json and the example
// of the reference use only documented keys.
func TestShippedConfig(t *testing.T) {
	doc := readDoc(t)
	keys, _ := section(t, doc, "Terminal: comptoir-edge run")
	_, example, _ := strings.Cut(doc, "```json\n")
	example, _, _ = strings.Cut(example, "```")
	shipped, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "build", "package", "edge.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{"build/package/edge.json": string(shipped), "the example": example} {
		var v map[string]any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, k := range flatten(v, "") {
			if !slices.Contains(keys, k) {
				t.Errorf("%s: key %q is not a documented config key", name, k)
			}
		}
	}
}

// flatten lists the dotted keys of v, objects included; the values of
// printers (a map of printer names) are not keys.
func flatten(v map[string]any, prefix string) []string {
	var keys []string
	for k, x := range v {
		keys = append(keys, prefix+k)
		if sub, ok := x.(map[string]any); ok && prefix+k != "printers" {
			keys = append(keys, flatten(sub, prefix+k+".")...)
		}
	}
	return keys
}
