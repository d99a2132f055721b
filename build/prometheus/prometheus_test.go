// Package prometheus holds the operators' kit: alert rules, their unit
// tests, an example scrape config and (in ../grafana) the fleet dashboard.
// Its tests run promtool (Debian package prometheus) on all of them.
package prometheus

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/build/testenv"
)

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin := testenv.Command(t, "promtool", "prometheus")
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRules checks the alert rules and runs their unit tests.
func TestRules(t *testing.T) {
	out := promtool(t, "check", "rules", "alerts.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("check rules: %s", out)
	}
	promtool(t, "test", "rules", "alerts_test.yml")
}

// TestAlertsAnnotated: every alert has a summary and a runbook line that
// points at a section of RUNBOOK.md.
func TestAlertsAnnotated(t *testing.T) {
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	runbook, err := os.ReadFile("RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	var alert string
	seen := map[string]map[string]bool{}
	for _, line := range strings.Split(string(rules), "\n") {
		l := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(l, "- alert: "); ok {
			alert = name
			seen[alert] = map[string]bool{}
		}
		for _, key := range []string{"summary", "runbook"} {
			if v, ok := strings.CutPrefix(l, key+": "); ok && alert != "" {
				seen[alert][key] = true
				if key == "runbook" {
					_, anchor, _ := strings.Cut(v, "#")
					anchor, _, _ = strings.Cut(anchor, ":")
					if !strings.Contains(string(runbook), "## "+anchor+"\n") {
						t.Errorf("%s: runbook anchor %q has no section in RUNBOOK.md", alert, anchor)
					}
				}
			}
		}
	}
	if len(seen) < 8 {
		t.Fatalf("found %d alerts, want at least 8", len(seen))
	}
	for a, keys := range seen {
		if !keys["summary"] || !keys["runbook"] {
			t.Errorf("%s: annotations %v, want summary and runbook", a, keys)
		}
	}
}

// TestScrapeConfig checks the example Prometheus config.
func TestScrapeConfig(t *testing.T) {
	promtool(t, "check", "config", "prometheus.yml")
}

// TestDashboardQueries parses the Grafana dashboard and checks each of its
// queries as PromQL, by handing them to promtool as recording rules.
func TestDashboardQueries(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "grafana", "comptoir-fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			n++
			fmt.Fprintf(&b, "      - record: dashboard:q%d\n        expr: %q\n", n, q.Expr)
		}
	}
	if d.UID == "" || n < 10 {
		t.Fatalf("dashboard uid %q with %d queries", d.UID, n)
	}
	f := filepath.Join(t.TempDir(), "dashboard.yml")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "rules", f)
}
