package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/health"
)

// TestHealthSpaceThresholdsFollowAReload: a running daemon judges the file
// system of its data dir by health.low_space and health.full_space, and a
// reload (SIGHUP) changes what its /healthz/detail and /metrics evaluate
// with, no restart: a size over the file system's raises the check
// whatever the host's free space, 0 clears it.
func TestHealthSpaceThresholdsFollowAReload(t *testing.T) {
	t.Parallel()
	a := newInstanceOpts(t, "hs", instanceOpts{health: "low_space: 0%\nfull_space: 0"})
	a.start()
	sp := health.Spaces([]string{a.dir})
	if len(sp) != 1 || sp[0].Size == 0 {
		t.Fatalf("spaces of %s: %+v", a.dir, sp)
	}
	over := fmt.Sprintf("%dKiB", sp[0].Size>>10+1)
	detail := func() healthJSON {
		t.Helper()
		code, body := a.get("/healthz/detail")
		var h healthJSON
		if code != http.StatusOK || json.Unmarshal([]byte(body), &h) != nil {
			t.Fatalf("/healthz/detail: %d %s", code, body)
		}
		return h
	}
	series := func(code string, v int) string {
		return fmt.Sprintf(`archivd_health_check{code=%q,node="hs"} %d`, code, v)
	}
	if h := detail(); h.Status != "OK" {
		t.Fatalf("thresholds off: %+v", h)
	}

	steps := []struct {
		old, new, status, code string
		sev                    int
	}{
		{"  low_space: 0%\n", "  low_space: " + over + "\n", "WARN", health.DataRootLowSpace, 1},
		{"  low_space: " + over + "\n  full_space: 0\n", "  low_space: 0%\n  full_space: " + over + "\n", "ERR", health.DiskFull, 2},
		{"  full_space: " + over + "\n", "  full_space: 0\n", "OK", "", 0},
	}
	for _, s := range steps {
		a.reconfigure(s.old, s.new)
		// The reload line is logged after the evaluator has the new
		// thresholds: the next evaluation uses them.
		h := detail()
		if h.Status != s.status || (s.code != "" && (len(h.Checks) != 1 || h.Checks[0].Code != s.code ||
			!strings.HasPrefix(h.Checks[0].Command, "df -h "+a.dir))) { // the data dir, or its parent before it exists
			t.Fatalf("after %q: want %s %s, got %+v", strings.TrimSpace(s.new), s.status, s.code, h)
		}
		if s.code != "" && !strings.Contains(a.scrape(), series(s.code, s.sev)) {
			t.Errorf("after %q: /metrics lacks %s", strings.TrimSpace(s.new), series(s.code, s.sev))
		}
	}
	for _, k := range []string{`"health.low_space"`, `"health.full_space"`} {
		if !strings.Contains(a.log.String(), k) {
			t.Errorf("no reload line names %s as applied", k)
		}
	}
	if strings.Contains(a.log.String(), "take effect at the next start") {
		t.Errorf("a health key was held for a restart:\n%s", tail(a.log.String(), 20))
	}
}
