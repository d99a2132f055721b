// Package packaging holds the nfpm configs of the Debian packages
// (comptoir-edge, comptoir-cloud) and their maintainer scripts. Its test
// builds the packages with `make package` and reads them back with
// dpkg-deb, then checks their systemd units with systemd-analyze.
package packaging

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// built holds the packages of `make package`, made once for all tests.
var built struct {
	once  sync.Once
	dir   string
	err   error
	out   []byte
	paths map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// debs returns the paths of the packages by "name/arch": those in
// $COMPTOIR_TEST_DEBS when set (CI has just made them with `make
// package`), else those of a `make package` run once for all tests. nfpm
// comes through the Go module proxy: when it can be fetched neither from
// there nor from the module cache (offline), the tests skip.
func debs(t *testing.T) map[string]string {
	t.Helper()
	testenv.Command(t, "dpkg-deb", "dpkg")
	dir := os.Getenv("COMPTOIR_TEST_DEBS")
	if dir == "" {
		mk := testenv.Command(t, "make", "make")
		if out, err := makeIn(mk, "nfpm-version"); err != nil {
			testenv.Skip(t, "nfpm cannot be fetched through the Go module proxy (offline?): "+lastLine(out))
		}
		built.once.Do(func() {
			if built.dir, built.err = os.MkdirTemp("", "comptoir-package-"); built.err != nil {
				return
			}
			built.out, built.err = makeIn(mk, "package", "DIST="+built.dir)
		})
		if built.err != nil {
			t.Fatalf("make package: %v\n%s", built.err, built.out)
		}
		dir = built.dir
	}
	paths := map[string]string{}
	for _, p := range []string{"comptoir-edge", "comptoir-cloud"} {
		for _, a := range []string{"arm64", "amd64"} {
			m, _ := filepath.Glob(filepath.Join(dir, p+"_*_"+a+".deb"))
			if len(m) != 1 {
				t.Fatalf("%s %s: packages %v, want one", p, a, m)
			}
			paths[p+"/"+a] = m[0]
		}
	}
	return paths
}

// makeIn runs make with args at the repository's root.
func makeIn(mk string, args ...string) ([]byte, error) {
	cmd := exec.Command(mk, append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	return cmd.CombinedOutput()
}

// lastLine returns the last line of out that is not make's own.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], "make") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// want lists, per package, the files it must hold and their modes.
var want = map[string]map[string]string{
	"comptoir-edge": {
		"./usr/bin/comptoir-edge":                     "-rwxr-xr-x",
		"./usr/libexec/comptoir/comptoir-kiosk":       "-rwxr-xr-x",
		"./lib/systemd/system/comptoir-edge.service":  "-rw-r--r--",
		"./lib/systemd/system/comptoir-kiosk.service": "-rw-r--r--",
		"./etc/comptoir/edge.json":                    "-rw-r--r--",
		"./etc/default/comptoir-edge":                 "-rw-r--r--",
		"./usr/share/doc/comptoir-edge/config.md":     "-rw-r--r--",
		"./var/lib/comptoir/":                         "drwxr-xr-x",
	},
	"comptoir-cloud": {
		"./usr/bin/comptoir-cloud":                    "-rwxr-xr-x",
		"./lib/systemd/system/comptoir-cloud.service": "-rw-r--r--",
		"./etc/default/comptoir-cloud":                "-rw-r-----",
		"./usr/share/doc/comptoir-cloud/config.md":    "-rw-r--r--",
		"./var/lib/comptoir/":                         "drwxr-xr-x",
	},
}

func TestPackages(t *testing.T) {
	paths := debs(t)
	for key, deb := range paths {
		name, arch, _ := strings.Cut(key, "/")
		t.Run(key, func(t *testing.T) {
			info := dpkgDeb(t, "--info", deb)
			for _, re := range []string{
				`(?m)^ Package: ` + name + `$`,
				`(?m)^ Architecture: ` + arch + `$`,
				`(?m)^ Version: (\d+\.\d+\.\d+\S*)$`,
				`(?m)^ Depends: .*adduser`,
				`(?m)^ Description: Comptoir`,
				`(?m)^\s+\d+ bytes,\s+\d+ lines\s+\*\s+preinst\s`,
				`(?m)^\s+\d+ bytes,\s+\d+ lines\s+\*\s+postinst\s`,
				`(?m)^\s+\d+ bytes,\s+\d+ lines\s+\*\s+prerm\s`,
				`(?m)^\s+\d+ bytes,\s+\d+ lines\s+\*\s+postrm\s`,
				`(?m)^\s+\d+ bytes,\s+\d+ lines\s+conffiles`,
			} {
				if !regexp.MustCompile(re).MatchString(info) {
					t.Errorf("--info does not match %s:\n%s", re, info)
				}
			}
			if conf := dpkgDeb(t, "--ctrl-tarfile", deb); !strings.Contains(conf, "conffiles") {
				t.Errorf("no conffiles in the control archive")
			}
			contents := dpkgDeb(t, "--contents", deb)
			modes := map[string]string{}
			for _, line := range strings.Split(contents, "\n") {
				f := strings.Fields(line)
				if len(f) >= 6 {
					modes[f[len(f)-1]] = f[0]
					if f[1] != "root/root" {
						t.Errorf("%s owned by %s, want root/root", f[len(f)-1], f[1])
					}
				}
			}
			for path, mode := range want[name] {
				if got, ok := modes[path]; !ok {
					t.Errorf("missing %s in:\n%s", path, contents)
				} else if got != mode {
					t.Errorf("%s: mode %s, want %s", path, got, mode)
				}
			}
			// The binary is static and for the package's architecture.
			root := t.TempDir()
			dpkgDeb(t, "-x", deb, root)
			bin := filepath.Join(root, "usr", "bin", name)
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			machine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[arch]
			if f.Machine != machine {
				t.Errorf("%s: machine %v, want %v", bin, f.Machine, machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s: dynamically linked (has an interpreter), want static", bin)
				}
			}
		})
	}
}

// TestMaintainerScripts: the scripts are valid sh and create the users.
func TestMaintainerScripts(t *testing.T) {
	sh := testenv.Command(t, "sh", "dash")
	files, _ := filepath.Glob(filepath.Join("scripts", "*"))
	if len(files) < 7 {
		t.Fatalf("scripts: %v", files)
	}
	for _, f := range files {
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	for _, f := range []string{"scripts/preinst-edge", "scripts/preinst-cloud"} {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(b), "adduser --system") {
			t.Errorf("%s does not create a system user", f)
		}
	}
}
