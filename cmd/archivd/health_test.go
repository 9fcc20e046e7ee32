package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/verify"
	"github.com/rs/zerolog"
)

// healthEnv is a config file on a fresh catalog: `archivd health` and
// the commands it prints run through the whole command line.
type healthEnv struct {
	url, cfgFile, data string
	db                 *catalog.DB
}

// roomyHealth are thresholds the host's temp dir meets whatever its free
// space: these tests are about other checks (TestHealthSpaceThresholds...
// is about these). DISK_FULL stays on: under 1MiB free nothing here works.
const roomyHealth = "health:\n  low_space: 0%\n  full_space: 1MiB\n"

// newHealthEnv: extra continues the verify section.
func newHealthEnv(t *testing.T, extra string) *healthEnv {
	return newHealthEnvWith(t, roomyHealth, extra)
}

// newHealthEnvWith: the health section is given (health keys, or "").
func newHealthEnvWith(t *testing.T, healthSection, extra string) *healthEnv {
	t.Helper()
	h := &healthEnv{url: pgtest.URL(t), data: t.TempDir()}
	h.cfgFile = filepath.Join(t.TempDir(), "archivd.yaml")
	writeFile(t, h.cfgFile, fmt.Sprintf("database:\n  url: %q\ndata_dir: %s\nstate_dir: %s\n%s"+
		"verify:\n  schedules: [\"0 0 1 1 *\"]\n  max_run: 1m\n%s", h.url, h.data, t.TempDir(), healthSection, extra))
	db, err := catalog.Open(ctxT(t), h.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	// The daemon of this host: the node the CLI speaks for (no node_id set).
	db.BindNode((&config.Config{}).ResolvedNodeID())
	h.db = db
	return h
}

func (h *healthEnv) cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, out, errs := runCLI(append([]string{"--config", h.cfgFile}, args...)...)
	return code, out + errs
}

// health runs `archivd health --json` and checks that its exit code is
// the report's status.
func (h *healthEnv) health(t *testing.T) health.Report {
	t.Helper()
	code, out, errs := runCLI("--config", h.cfgFile, "health", "--json")
	var rep health.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("health --json: exit %d: %v: %s %s", code, err, out, errs)
	}
	if code != int(rep.Status) {
		t.Fatalf("health exit %d, status %s: %s", code, rep.Status, out)
	}
	return rep
}

func mustRaise(t *testing.T, rep health.Report, code string, sev health.Severity, names ...string) health.Check {
	t.Helper()
	c, ok := rep.Raised(code)
	if !ok || c.Severity != sev {
		t.Fatalf("want %s %s, got %+v", code, sev, rep.Checks)
	}
	for _, n := range names {
		if !strings.Contains(c.Command+strings.Join(c.Detail, "\n"), n) {
			t.Fatalf("%s does not name %s: %+v", code, n, c)
		}
	}
	return c
}

func mustClear(t *testing.T, rep health.Report, codes ...string) {
	t.Helper()
	for _, code := range codes {
		if c, ok := rep.Raised(code); ok {
			t.Fatalf("%s still raised: %+v", code, c)
		}
	}
}

// runSuggested runs a check's command as printed and requires success.
func (h *healthEnv) runSuggested(t *testing.T, c health.Check) string {
	t.Helper()
	args := strings.Fields(c.Command)
	if args[0] != "archivd" {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %q: %v: %s", c.Code, c.Command, err, out)
		}
		return string(out)
	}
	code, out, errs := runCLI(args[1:]...)
	if code != 0 {
		t.Fatalf("%s: %q: exit %d: %s %s", c.Code, c.Command, code, out, errs)
	}
	return out
}

func (h *healthEnv) addTree(t *testing.T) (dir, ih string) {
	t.Helper()
	if code, out := h.cli(t, "collection", "create", "c"); code != 0 {
		t.Fatal(out)
	}
	dir = makeTree(t, t.TempDir())
	if code, out := h.cli(t, "add", "-c", "c", "--piece-length", "16KiB", dir); code != 0 {
		t.Fatal(out)
	}
	ts, err := h.db.Torrents(ctxT(t), catalog.TorrentFilter{})
	if err != nil || len(ts) != 1 {
		t.Fatalf("torrents: %v %d", err, len(ts))
	}
	return dir, ts[0].HexHash()
}

func TestHealthUnavailableHeldAndDamageRaisedAndClearedByTheirCommands(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	dir, ih := h.addTree(t)
	if rep := h.health(t); rep.Status != health.OK {
		t.Fatalf("fresh catalog: %+v", rep)
	}
	// The disk under the data "goes away": a scrub finds every file
	// missing, holds repair and marks the torrent unavailable.
	gone := dir + ".unmounted"
	if err := os.Rename(dir, gone); err != nil {
		t.Fatal(err)
	}
	if code, out := h.cli(t, "verify", "--offline", ih); code != exitDamage {
		t.Fatalf("verify --offline of missing data: exit %d: %s", code, out)
	}
	rep := h.health(t)
	if rep.Status != health.Err {
		t.Fatalf("status %s", rep.Status)
	}
	mustRaise(t, rep, health.TorrentUnavailable, health.Err, ih, "data directory "+dir+" is missing")
	held := mustRaise(t, rep, health.RepairHeld, health.Err, ih)

	// The disk is back; the printed command hashes it and brings the
	// torrent back: the held findings close as found intact.
	if err := os.Rename(gone, dir); err != nil {
		t.Fatal(err)
	}
	if out := h.runSuggested(t, held); !strings.Contains(out, "available (") {
		t.Fatalf("resume output: %s", out)
	}
	rep = h.health(t)
	mustClear(t, rep, health.TorrentUnavailable, health.RepairHeld, health.DamageOpen)
	// Bitrot in one piece: open damage until repaired, nobody repairs.
	flipByte(t, filepath.Join(dir, "top.bin"), 100)
	if code, out := h.cli(t, "verify", "--offline", ih); code != exitDamage {
		t.Fatalf("verify --offline of a flipped byte: exit %d: %s", code, out)
	}
	rep = h.health(t)
	dmg := mustRaise(t, rep, health.DamageOpen, health.Err, ih)
	if out := h.runSuggested(t, dmg); !strings.Contains(out, "queued verify run") {
		t.Fatalf("verify output: %s", out)
	}
	// The repair follow-up closes the findings once pieces read back good.
	ctx := ctxT(t)
	fs, err := h.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{States: []catalog.FindingState{catalog.FindingOpen}})
	if err != nil || len(fs) == 0 {
		t.Fatalf("open findings: %v %d", err, len(fs))
	}
	ids := make([]int64, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	mustOK(t, h.db.RepairVerifyFindings(ctx, ids, "test", time.Now()))
	if rep := h.health(t); rep.Status != health.OK {
		t.Fatalf("after repair: %+v", rep.Checks)
	}
}

// runService runs the daemon's verify service on the catalog until the
// test ends, as `archivd serve` would.
func (h *healthEnv) runService(t *testing.T) { h.runServiceWith(t, nil) }

// runServiceWith is runService with the service's configuration tuned;
// it returns the service's log.
func (h *healthEnv) runServiceWith(t *testing.T, tune func(*verify.Config)) *serviceLog {
	t.Helper()
	cfg := config.Default()
	cfg.Verify.Schedules, cfg.Verify.MaxRun = []string{"0 0 1 1 *"}, time.Minute
	log := &serviceLog{}
	vc := verify.ConfigFrom(&cfg, zerolog.New(log).Level(zerolog.InfoLevel))
	vc.Poll = 50 * time.Millisecond
	if tune != nil {
		tune(&vc)
	}
	svc, err := verify.NewService(vc, h.db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("verify service: %v", err)
		}
		if t.Failed() {
			t.Logf("verify service log:\n%s", log.String())
		}
	})
	return log
}

// waitRunsDone waits until no verify run is queued or running.
func (h *healthEnv) waitRunsDone(t *testing.T) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, "no verify run queued or running", func() bool {
		runs, err := h.db.VerifyRuns(ctxT(t), 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.State == "queued" || r.State == "running" {
				return false
			}
		}
		return true
	})
}

// The cut run is written as the verify service records it; a real daemon
// whose windows are too short raises it in e2e
// TestHealthChecksRaisedAndClearedByRealEvents, which also raises
// DAMAGE_OPEN by bitrot and clears it by a repair from a real peer.
func TestHealthOverdueAndScrubBehindRaisedAndClearedByVerify(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "  interval: 3s\n")
	_, ih := h.addTree(t)
	ctx := ctxT(t)
	// A scheduled run that its window cut short, as the verify service
	// records it.
	id, err := h.db.CreateVerifyRun(ctx, catalog.RunScheduled, []byte(`{}`), "n", time.Now())
	mustOK(t, err)
	if _, ok, err := h.db.ClaimVerifyRun(ctx, []catalog.RunKind{catalog.RunScheduled}, "n", time.Now()); err != nil || !ok {
		t.Fatalf("claim: %v %v", err, ok)
	}
	mustOK(t, h.db.SetVerifyRunPlanned(ctx, id, 110000))
	mustOK(t, h.db.FinishVerifyRun(ctx, id, catalog.RunCancelled, catalog.RunCutByWindow+": the ranges left are first in the next window", time.Now()))
	behind := mustRaise(t, h.health(t), health.ScrubBehindSchedule, health.Warn)

	// Pieces never verified since they were added, longer ago than the
	// interval (3s): overdue.
	var rep health.Report
	testutil.Eventually(t, 20*time.Second, "pieces not verified raised", func() bool {
		rep = h.health(t)
		_, ok := rep.Raised(health.PiecesNotVerified)
		return ok
	})
	over := mustRaise(t, rep, health.PiecesNotVerified, health.Warn, ih)
	h.runService(t)
	h.runSuggested(t, over)
	h.waitRunsDone(t)
	rep = h.health(t)
	mustClear(t, rep, health.PiecesNotVerified)
	mustRaise(t, rep, health.ScrubBehindSchedule, health.Warn) // a run of one torrent does not catch up
	h.runSuggested(t, behind)
	h.waitRunsDone(t)
	mustClear(t, h.health(t), health.ScrubBehindSchedule, health.PiecesNotVerified)
}

func TestHealthCatalogUnreachableIsErrWithAWorkingCommand(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, fmt.Sprintf("database:\n  url: postgres://archivd@127.0.0.1:1/archivd?connect_timeout=5\ndata_dir: %s\n%s", h.data, roomyHealth))
	code, out, _ := runCLI("--config", bad, "health")
	if code != 2 || !strings.HasPrefix(out, "HEALTH_ERR CATALOG_DEGRADED\n") || !strings.Contains(out, "catalog unreachable") {
		t.Fatalf("exit %d: %s", code, out)
	}
	var cmd string
	for _, l := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(l), "$ "); ok {
			cmd = c
		}
	}
	if cmd != "archivd --config "+bad+" config show" {
		t.Fatalf("command %q", cmd)
	}
	if out := h.runSuggested(t, health.Check{Code: health.CatalogDegraded, Command: cmd}); !strings.Contains(out, "127.0.0.1:1") {
		t.Fatalf("config show: %s", out)
	}
	if code, out, _ := runCLI("--config", h.cfgFile, "health"); code != 0 || out != "HEALTH_OK\n" {
		t.Fatalf("reachable catalog: exit %d: %s", code, out)
	}
}

// flipByte inverts the byte at off of the file at p.
func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// The seeder marks a torrent degraded when its writes fail and ok when a
// write works again (internal/seeder); the check follows the catalog.
// Here the states are written directly to cover the severities; a real
// full disk raises and clears it in e2e TestDiskFullIsAStateWithAnAutomaticWayBack.
func TestHealthTorrentDegradedFollowsTheSeedersAvailability(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	_, ih := h.addTree(t)
	ctx := ctxT(t)
	tr, err := h.db.TorrentByRef(ctx, ih)
	mustOK(t, err)
	mustOK(t, h.db.SetAvailability(ctx, tr.ID, catalog.AvailabilityOf{State: catalog.AvailabilityDegraded,
		Cause: catalog.CauseDiskFull, Reason: "write piece 3: no space left on device"}))
	rep := h.health(t)
	c := mustRaise(t, rep, health.TorrentDegraded, health.Err, "disk_full: write piece 3: no space left on device")
	if out := h.runSuggested(t, c); !strings.Contains(out, "Filesystem") {
		t.Fatalf("df output: %s", out)
	}
	mustOK(t, h.db.SetAvailability(ctx, tr.ID, catalog.AvailabilityOf{State: catalog.AvailabilityDegraded,
		Cause: catalog.CauseWriteIOError, Reason: "write piece 3: input/output error"}))
	mustRaise(t, h.health(t), health.TorrentDegraded, health.Warn, ih[:12], "input/output error")
	mustOK(t, h.db.SetAvailability(ctx, tr.ID, catalog.AvailabilityOf{State: catalog.AvailabilityOK}))
	if rep := h.health(t); rep.Status != health.OK {
		t.Fatalf("writes work again: %+v", rep.Checks)
	}
}

func TestHealthOutdatedSchemaIsErrAndMigrateClearsIt(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	ctx := ctxT(t)
	// Roll the newest migration back, as an archivd upgrade finds it.
	st, err := h.db.Schema(ctx)
	mustOK(t, err)
	mustOK(t, h.db.MigrateTo(ctx, st.Latest-1))

	c := mustRaise(t, h.health(t), health.CatalogDegraded, health.Err, "migrate")
	if !strings.Contains(c.Summary, "outdated") {
		t.Fatalf("summary: %s", c.Summary)
	}
	h.runSuggested(t, c)
	if rep := h.health(t); rep.Status != health.OK {
		t.Fatalf("after migrate: %+v", rep.Checks)
	}
}
