package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The monitoring that ships in deploy/monitoring (docs/operations.md),
// checked with Prometheus's own promtool, pinned by the module in
// deploy/monitoring/promtool; `make test` builds it into bin/ first.
const (
	monitoringDir = "../../deploy/monitoring"
	promtoolBuilt = "../../bin/promtool"
)

// promtool is the path of a promtool binary: make's, or one built now.
func promtool(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(promtoolBuilt); err == nil {
		return promtoolBuilt
	}
	bin := filepath.Join(t.TempDir(), "promtool")
	t.Logf("building promtool from %s/promtool (minutes the first time: make test builds it beforehand)", monitoringDir)
	build := exec.Command("go", "build", "-o", bin, "github.com/prometheus/prometheus/cmd/promtool")
	build.Dir = filepath.Join(monitoringDir, "promtool")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build promtool: %v\n%s", err, out)
	}
	return bin
}

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = monitoringDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestTheAlertRulesParseAndFireOnTheirTestSeries: promtool checks the rules
// and runs alerts_test.yml, where each alert meets series that must fire it
// and series that must not.
func TestTheAlertRulesParseAndFireOnTheirTestSeries(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert string }
		}
	}
	raw, err := os.ReadFile(filepath.Join(monitoringDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range rules.Groups {
		alerts += len(g.Rules)
	}
	if out := runPromtool(t, "check", "rules", "alerts.yml"); !strings.Contains(out, fmt.Sprintf("SUCCESS: %d rules found", alerts)) {
		t.Errorf("promtool check rules, of %d alerts: %s", alerts, out)
	}
	runPromtool(t, "test", "rules", "alerts_test.yml")
	// Every alert has a test.
	tests, err := os.ReadFile(filepath.Join(monitoringDir, "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("alert %s has no test in alerts_test.yml", r.Alert)
			}
		}
	}
}

// dashboardQueries lists the PromQL of every panel of the Grafana
// dashboard, with Grafana's variables put as a query would get them.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(monitoringDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$sale", ".*")
	var queries []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			queries = append(queries, vars.Replace(target.Expr))
		}
	}
	return queries
}

// TestTheDashboardsQueriesParse: promtool parses each panel's query, as
// the expression of a recording rule.
func TestTheDashboardsQueriesParse(t *testing.T) {
	queries := dashboardQueries(t)
	if len(queries) < 20 {
		t.Fatalf("%d queries in the dashboard, want its panels' (20 or more)", len(queries))
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, q := range queries {
		rules = append(rules, rule{Record: "foyer_dashboard_query_" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Expr: q})
	}
	raw, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := runPromtool(t, "check", "rules", file); !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules of the dashboard's queries: %s", out)
	}
}
