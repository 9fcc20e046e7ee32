package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// healthNow runs `archivd health --json`: the report and the exit code.
func (in *instance) healthNow() (healthJSON, int) {
	in.t.Helper()
	out, _, code := in.run("health", "--json")
	var h healthJSON
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		in.t.Fatalf("%s: health --json: exit %d: %v: %s", in.name, code, err, out)
	}
	return h, code
}

func raised(h healthJSON, code string) (severity string, ok bool) {
	for _, c := range h.Checks {
		if c.Code == code {
			return c.Severity, true
		}
	}
	return "", false
}

// waitHealth waits until check code is raised (want) or cleared (!want).
func (in *instance) waitHealth(code string, want bool, timeout time.Duration) healthJSON {
	in.t.Helper()
	var h healthJSON
	what := code + " cleared"
	if want {
		what = code + " raised"
	}
	testutil.Eventually(in.t, timeout, in.name+": "+what, func() bool {
		h, _ = in.healthNow()
		_, ok := raised(h, code)
		return ok == want
	})
	return h
}

// runPrinted runs a check's printed command with the binary under test.
func runPrinted(t *testing.T, h healthJSON, code string) string {
	t.Helper()
	cmd := commandOf(t, h, code)
	out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %v\n%s", code, cmd, err, out)
	}
	return string(out)
}

// reconfigure replaces old with new in the config file and has the
// running daemon reload it (SIGHUP), waiting for its reload line.
func (in *instance) reconfigure(old, new string) {
	in.t.Helper()
	cfg := string(mustRead(in.t, in.config))
	if !strings.Contains(cfg, old) {
		in.t.Fatalf("%s: config has no %q", in.name, old)
	}
	if err := os.WriteFile(in.config, []byte(strings.Replace(cfg, old, new, 1)), 0o644); err != nil {
		in.t.Fatal(err)
	}
	before := countLines(in.log.String(), "reload: configuration reloaded")
	if err := in.serve.Process.Signal(syscall.SIGHUP); err != nil {
		in.t.Fatal(err)
	}
	testutil.Eventually(in.t, 30*time.Second, in.name+" reloaded", func() bool {
		return countLines(in.log.String(), "reload: configuration reloaded") > before
	})
}

// TestHealthChecksRaisedAndClearedByRealEvents: SCRUB_BEHIND_SCHEDULE and
// DAMAGE_OPEN of a real daemon, raised and cleared by what they describe,
// nothing written to the catalog by the test:
//   - scheduled windows of 3 s every 8 s at 1 MiB/s over ~26 MiB: the scrub falls
//     behind its schedule; once the schedule is relaxed (SIGHUP), the
//     printed command (a run over everything) catches up and clears it;
//   - a flipped byte found by a scrub: damage open while no peer has the
//     piece, even after the printed re-hash; a libtorrent seeder of the
//     intact data dials in, the daemon repairs the piece and it clears.
//
// TORRENT_DEGRADED is raised by a real full disk and cleared by the disk
// getting room in TestDiskFullIsAStateWithAnAutomaticWayBack.
func TestHealthChecksRaisedAndClearedByRealEvents(t *testing.T) {
	t.Parallel()
	ltDrive(t)
	rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
	const schedule = "  schedules: [\"@every 8s\"]\n  max_run: 3s\n  rate: 1MiB\n"
	a := newInstance(t, "ev", "", "verify:\n"+schedule+"  range_bytes: 1MiB\n  interval: 1s\n")
	src := makeDataset(t, a.dir, rng)
	// The intact copy a libtorrent seeder will repair from.
	intact := filepath.Join(t.TempDir(), "lt")
	if err := os.MkdirAll(intact, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", src, intact).CombinedOutput(); err != nil {
		t.Fatalf("copy dataset: %v: %s", err, out)
	}
	tfile := filepath.Join(a.dir, "dataset.torrent")
	a.cli(0, "collection", "create", "science")
	a.cli(0, "add", "-c", "science", src, "--out", tfile, "--piece-length", "256KiB")
	a.start()
	t.Cleanup(func() {
		if t.Failed() {
			out, _, _ := a.run("report", "--json")
			t.Logf("report: %s", tail(out, 40))
		}
	})

	// The scrub falls behind its schedule.
	h := a.waitHealth("SCRUB_BEHIND_SCHEDULE", true, 2*time.Minute)
	if sev, _ := raised(h, "SCRUB_BEHIND_SCHEDULE"); sev != "WARN" {
		t.Errorf("SCRUB_BEHIND_SCHEDULE severity %s, want WARN", sev)
	}
	a.reconfigure(schedule, "  schedules: [\"0 0 1 1 *\"]\n  max_run: 0s\n")
	// A window opened before the reload may still cut a run: wait for the
	// last scheduled run to be done, then catch up.
	testutil.Eventually(t, time.Minute, "no scheduled run active", func() bool {
		var st struct {
			Runs []struct {
				Kind string `json:"kind"`
			} `json:"runs"`
		}
		a.cliJSON(&st, "verify", "status")
		for _, r := range st.Runs {
			if r.Kind == "scheduled" {
				return false
			}
		}
		return true
	})
	h, _ = a.healthNow()
	if _, ok := raised(h, "SCRUB_BEHIND_SCHEDULE"); !ok {
		t.Fatalf("SCRUB_BEHIND_SCHEDULE cleared before any catch-up: %+v", h)
	}
	t.Logf("printed command: %s", runPrinted(t, h, "SCRUB_BEHIND_SCHEDULE"))
	a.waitHealth("SCRUB_BEHIND_SCHEDULE", false, 2*time.Minute)

	// Bitrot with no peer to repair it.
	var tj torrentJSON
	a.cliJSON(&tj, "show", "dataset")
	flip(t, filepath.Join(src, "a", "b", "deep.bin"), 1<<20+3)
	a.cli(6, "verify", "dataset", "--wait")
	h = a.waitHealth("DAMAGE_OPEN", true, time.Minute)
	runPrinted(t, h, "DAMAGE_OPEN") // re-hash: still damaged, nobody has it
	a.cli(6, "verify", "dataset", "--wait")
	if h, _ = a.healthNow(); !strings.Contains(fmt.Sprint(h.Checks), "DAMAGE_OPEN") {
		t.Fatalf("DAMAGE_OPEN cleared with the byte still flipped and no peer: %+v", h)
	}

	// A peer with the intact data: the daemon repairs, the check clears.
	startLibtorrent(t, "libtorrent-seeder", map[string]any{"mode": "seed", "torrent": tfile, "save_path": intact,
		"port": testutil.FreePort(t, "127.0.0.2"), "host": "127.0.0.2", "peers": []string{fmt.Sprintf("127.0.0.1:%d", a.port)}})
	a.waitHealth("DAMAGE_OPEN", false, 3*time.Minute)
	if !sameTree(t, src, filepath.Join(intact, "dataset")) {
		t.Error("DAMAGE_OPEN cleared but the data differs from the intact copy")
	}
	a.stop()
}
