package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

// hardening lists the settings every long-running unit must have.
var hardening = []string{
	"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
	"PrivateTmp=yes", "StateDirectory=", "Restart=", "StartLimitBurst=",
	"StartLimitIntervalSec=", "User=",
}

func TestUnitsHardened(t *testing.T) {
	for _, u := range []string{"comptoir-edge.service", "comptoir-cloud.service", "comptoir-kiosk.service"} {
		b, err := os.ReadFile(filepath.Join("..", "systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hardening {
			if !strings.Contains(string(b), "\n"+h) {
				t.Errorf("%s: no %s", u, h)
			}
		}
	}
}

// TestUnitsVerify runs systemd-analyze verify on the units as packaged:
// the executables they name are those of the extracted packages (the
// paths are rewritten into the extraction directory), so that verify sees
// them.
func TestUnitsVerify(t *testing.T) {
	sa := testenv.Command(t, "systemd-analyze", "systemd")
	paths := debs(t)
	for _, key := range []string{"comptoir-edge/amd64", "comptoir-cloud/amd64"} {
		root := t.TempDir()
		dpkgDeb(t, "-x", paths[key], root)
		units, _ := filepath.Glob(filepath.Join(root, "lib", "systemd", "system", "*.service"))
		if len(units) == 0 {
			t.Fatalf("%s: no units", key)
		}
		dir := t.TempDir()
		var args []string
		for _, u := range units {
			b, err := os.ReadFile(u)
			if err != nil {
				t.Fatal(err)
			}
			s := strings.ReplaceAll(string(b), "ExecStart=/usr/", "ExecStart="+root+"/usr/")
			dst := filepath.Join(dir, filepath.Base(u))
			if err := os.WriteFile(dst, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, dst)
		}
		out, err := exec.Command(sa, append([]string{"verify"}, args...)...).CombinedOutput()
		// Lines about units of the host (not ours) are not our concern.
		var ours []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "comptoir") {
				ours = append(ours, l)
			}
		}
		if err != nil || len(ours) > 0 {
			t.Errorf("%s: systemd-analyze verify: %v\n%s", key, err, out)
		}
	}
}
