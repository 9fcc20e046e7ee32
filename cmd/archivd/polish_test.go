package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Contradictory flags are refused with one line and exit 2, before the
// catalog is opened (the database URL here leads nowhere).
func TestContradictoryFlagsAreUsageErrors(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "r.html")
	nodb := []string{"--database.url", "postgres://127.0.0.1:1/none?connect_timeout=1"}
	cases := []struct {
		args []string
		line string
	}{
		{[]string{"verify", "--offline", "--wait"}, "archivd: verify: --offline runs here and --wait waits for the daemon: choose one"},
		{[]string{"verify", "--timeout", "1m"}, "archivd: verify: --timeout limits --wait; add --wait or drop --timeout"},
		{[]string{"verify", "--offline", "--timeout", "1m"}, "archivd: verify: --timeout limits --wait; add --wait or drop --timeout"},
		{[]string{"report", "--list", "3", "-o", out}, "archivd: report: --out writes one run's report; it cannot be used with --list"},
		{[]string{"report", "--json", "--format", "csv"}, "archivd: report: --json and --format csv contradict each other"},
		{[]string{"report", "--list", "3", "--format", "html"}, "archivd: report: --list prints a table or, with --json, JSON; not --format html"},
	}
	for _, c := range cases {
		code, stdout, stderr := runCLI(append(nodb, c.args...)...)
		if code != exitUsage || stderr != c.line+"\n" || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2 %q", c.args, code, stderr, stdout, c.line)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("report -o with --list wrote %s", out)
	}
}

// report --json prints the run as JSON (it printed a table), and show
// lists the open findings it counts.
func TestReportJSONAndShowListsOpenFindings(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	dir := e.addTree(t, "16KiB")
	p := filepath.Join(dir, "a", "b", "deep.txt")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[50000] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runVerify(ctx, e.a, verifyOptions{Offline: true}, nil); exitCode(err) != exitDamage {
		t.Fatalf("verify: %v", err)
	}

	o := reportOptions{Format: "table", JSON: true}
	mustOK(t, o.validate())
	e.stdout.Reset()
	mustOK(t, runReport(ctx, e.a, o, "latest"))
	var rep struct {
		Findings []struct{ Piece int } `json:"findings"`
	}
	if err := json.Unmarshal(e.stdout.Bytes(), &rep); err != nil || len(rep.Findings) != 1 {
		t.Fatalf("report --json: %v\n%s", err, e.stdout)
	}

	e.stdout.Reset()
	mustOK(t, runShow(ctx, e.a, showOptions{Ref: "dataset"}))
	text := e.stdout.String()
	if !strings.Contains(text, "open findings: 1\n") || !strings.Contains(text, "PIECE") ||
		!strings.Contains(text, "hash_mismatch") || !strings.Contains(text, "a/b/deep.txt") {
		t.Fatalf("show does not list the open finding:\n%s", text)
	}
	e.stdout.Reset()
	mustOK(t, runShow(ctx, e.a, showOptions{Ref: "dataset", JSON: true}))
	var v struct {
		OpenFindings int `json:"open_findings"`
		Findings     []struct {
			Piece int    `json:"piece"`
			State string `json:"state"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(e.stdout.Bytes(), &v); err != nil || v.OpenFindings != 1 || len(v.Findings) != 1 ||
		v.Findings[0].Piece != 3 || v.Findings[0].State != "open" {
		t.Fatalf("show --json findings: %v %+v", err, v)
	}
}
