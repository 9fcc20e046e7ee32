package httpapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	metricName = regexp.MustCompile(`\barchivd_[a-z0-9_]+`)
	typeLine   = regexp.MustCompile(`(?m)^# TYPE (\S+) `)
)

// exposed returns the metric names a scrape declares.
func exposed(body string) map[string]bool {
	out := map[string]bool{}
	for _, m := range typeLine.FindAllStringSubmatch(body, -1) {
		out[m[1]] = true
	}
	return out
}

// known reports whether name (possibly a histogram's _bucket, _sum or
// _count) is exposed.
func known(names map[string]bool, name string) bool {
	for _, suf := range []string{"", "_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && names[base] {
			return true
		}
	}
	return false
}

func runPromtool(t *testing.T, bin, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out.String())
	}
}

// The shipped alert rules and dashboard: the rules are valid and every
// alert has a unit test that passes; every metric either names is one
// /metrics exposes.
func TestAlertRulesAndDashboard(t *testing.T) {
	t.Parallel()
	bin := promtool(t)
	dir := filepath.Join("..", "..", "deploy", "prometheus")
	runPromtool(t, bin, dir, "check", "rules", "alerts.yml")
	runPromtool(t, bin, dir, "test", "rules", "alerts_test.yml")

	rules, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	must(t, err)
	tests, err := os.ReadFile(filepath.Join(dir, "alerts_test.yml"))
	must(t, err)
	tested := map[string]bool{}
	for _, m := range regexp.MustCompile(`alertname: (\w+)`).FindAllStringSubmatch(string(tests), -1) {
		tested[m[1]] = true
	}
	alerts := regexp.MustCompile(`- alert: (\w+)`).FindAllStringSubmatch(string(rules), -1)
	if len(alerts) < 10 {
		t.Fatalf("only %d alerts in alerts.yml", len(alerts))
	}
	for _, a := range alerts {
		if !tested[a[1]] {
			t.Errorf("alert %s has no unit test in alerts_test.yml", a[1])
		}
	}

	names := exposed(scrape(t))
	for _, n := range metricName.FindAllString(string(rules), -1) {
		if !known(names, n) {
			t.Errorf("alerts.yml uses %s, which /metrics does not expose", n)
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "archivd.json"))
	must(t, err)
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	must(t, json.Unmarshal(raw, &dash))
	if dash.Title != "archivd" || len(dash.Panels) < 10 {
		t.Fatalf("dashboard %q with %d panels", dash.Title, len(dash.Panels))
	}
	var used []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			ms := metricName.FindAllString(tg.Expr, -1)
			if len(ms) == 0 {
				t.Errorf("panel %q: query %q names no archivd metric", p.Title, tg.Expr)
			}
			for _, n := range ms {
				used = append(used, n)
				if !known(names, n) {
					t.Errorf("panel %q uses %s, which /metrics does not expose", p.Title, n)
				}
			}
		}
	}
	for _, n := range []string{"archivd_health_check", "archivd_verify_hashed_bytes_total", "archivd_uploaded_bytes_total"} {
		if !slices.Contains(used, n) {
			t.Errorf("dashboard does not show %s", n)
		}
	}
}
