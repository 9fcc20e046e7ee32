package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// Issue 10's cases 1, 2, 3, 6 and 11, as an operator meets them: real
// archivd processes (serve and the CLI) on an embedded PostgreSQL.

// integrityTree writes 6 files of 40 KiB (pieces of 16 KiB: 15 pieces).
func integrityTree(t *testing.T, dir string) {
	t.Helper()
	for i := range 6 {
		b := make([]byte, 40_000)
		for j := range b {
			b[j] = byte(i*31 + j*7)
		}
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%2), fmt.Sprintf("f%d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (in *instance) show(name string) torrentJSON {
	in.t.Helper()
	var tj torrentJSON
	in.cliJSON(&tj, "show", name)
	return tj
}

// TestVerifyStaysRedWhileDamageIsOnDisk: case 1. After a run reports a
// hash mismatch, a second `verify --wait` and a `verify --offline` still
// exit 6 and count the piece failed. Fails on main before issue 10: the
// second run exits 0.
func TestVerifyStaysRedWhileDamageIsOnDisk(t *testing.T) {
	t.Parallel()
	a, dir := newTreeInstance(t, "red")
	a.start()
	flip(t, filepath.Join(dir, "d0", "f2.bin"), 20_000)
	for i := range 2 {
		out, errs, code := a.run("verify", "--wait", "--timeout", "1m")
		if code != 6 || !strings.Contains(out, " 1 failed") {
			t.Fatalf("verify --wait #%d: exit %d, want 6 and 1 failed\n%s%s", i+1, code, out, errs)
		}
	}
	a.stop()
	if out, errs, code := a.run("verify", "--offline"); code != 6 || !strings.Contains(out, " 1 failed") {
		t.Fatalf("verify --offline: exit %d, want 6 and 1 failed\n%s%s", code, out, errs)
	}
	if tj := a.show("tree"); tj.PiecesComplete != tj.PieceCount-1 || tj.OpenFindings != 1 {
		t.Fatalf("while damaged: %+v, want one piece not complete and one open finding", tj)
	}
}

// TestAHandFixIsRecordedComplete: case 3. A damaged byte put right by
// hand: the finding closes as found intact on re-check and the piece is
// recorded complete again, also after a restart. Fails on main before
// issue 10: the piece stays incomplete (source "unknown").
func TestAHandFixIsRecordedComplete(t *testing.T) {
	t.Parallel()
	a, dir := newTreeInstance(t, "fix")
	a.start()
	victim := filepath.Join(dir, "d0", "f2.bin")
	flip(t, victim, 20_000)
	found := runOf(t, a.cli(6, "verify", "--wait", "--timeout", "1m"))
	flip(t, victim, 20_000) // put right by hand
	a.cli(0, "verify", "--wait", "--timeout", "1m")
	testutil.Eventually(t, 30*time.Second, "the fixed piece recorded complete", func() bool {
		tj := a.show("tree")
		return tj.PiecesComplete == tj.PieceCount && tj.OpenFindings == 0
	})
	// The finding is reported by the run that made it: the run verify
	// --wait printed, or a scheduled one before it that saw the damage
	// first (a run finding a piece already found adds no finding).
	type finding struct {
		State        string `json:"state"`
		RepairSource string `json:"repair_source"`
	}
	var fs []finding
	last, err := strconv.Atoi(found)
	if err != nil {
		t.Fatalf("run %q: %v", found, err)
	}
	for run := 1; run <= last; run++ {
		var rep struct {
			Findings []finding `json:"findings"`
		}
		a.cliJSON(&rep, "report", strconv.Itoa(run))
		fs = append(fs, rep.Findings...)
	}
	if len(fs) != 1 || fs[0].State != "repaired" || fs[0].RepairSource != "found intact on re-check" {
		t.Fatalf("findings after the fix: %+v, want one repaired, found intact on re-check", fs)
	}
	a.stop()
	a.start()
	a.cli(0, "verify", "--wait", "--timeout", "1m")
	if tj := a.show("tree"); tj.PiecesComplete != tj.PieceCount {
		t.Fatalf("after a restart: %+v", tj)
	}
}

// TestVerifyOfflineJudgesAFreshImport: case 2. A .torrent added over data
// already in place records nothing (its pieces are unknown); `verify
// --offline` judges every piece, finds the flipped one (exit 6) and records
// the good ones complete. Fails on main before issue 10: "0 pieces
// checked", exit 0.
func TestVerifyOfflineJudgesAFreshImport(t *testing.T) {
	t.Parallel()
	a := newInstance(t, "fresh", "http://127.0.0.1:1/announce", "")
	root := filepath.Join(a.dir, "data")
	integrityTree(t, filepath.Join(root, "tree"))
	tor, err := torrentfile.Create(context.Background(), torrentfile.CreateOptions{Path: filepath.Join(root, "tree"), PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	tfile := filepath.Join(a.dir, "tree.torrent")
	if err := os.WriteFile(tfile, tor.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	a.importTorrent("c", root, tfile)
	if tj := a.show("tree"); tj.PiecesComplete != 0 {
		t.Fatalf("a fresh import records %d pieces complete", tj.PiecesComplete)
	}
	flip(t, filepath.Join(root, "tree", "d1", "f3.bin"), 100)
	out, errs, code := a.run("verify", "--offline")
	if code != 6 || !strings.Contains(out, "15 pieces checked, 1 failed") {
		t.Fatalf("verify --offline: exit %d, want 6 with 15 checked and 1 failed\n%s%s", code, out, errs)
	}
	if tj := a.show("tree"); tj.PiecesComplete != 14 || tj.OpenFindings != 1 {
		t.Fatalf("after the run: %+v, want 14 pieces complete and 1 open finding", tj)
	}
}

// TestScrubsOfAMissingDirectoryAddNoRows: case 6. Three runs over a
// torrent whose data directory is gone leave one finding, seen three
// times. Fails on main before issue 10: one row per piece per run.
func TestScrubsOfAMissingDirectoryAddNoRows(t *testing.T) {
	t.Parallel()
	a, dir := newTreeInstance(t, "gone")
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a.run("verify", "--offline")
	}
	var rep struct {
		reportJSON
		Findings []struct {
			PieceCount int `json:"piece_count"`
			SeenCount  int `json:"seen_count"`
		} `json:"findings"`
	}
	a.cliJSON(&rep, "report", "latest")
	if fs := rep.Findings; len(fs) != 1 || fs[0].PieceCount != 15 || fs[0].SeenCount != 3 {
		t.Fatalf("findings after three runs: %+v, want one range of 15 pieces seen 3 times", fs)
	}
	if rep.Run.PiecesFailed != 15 {
		t.Fatalf("the last run counts %d failed pieces, want 15", rep.Run.PiecesFailed)
	}
}

// TestVerifyWaitWithoutADaemonFailsAtOnce: case 11. With no live daemon
// `verify --wait` fails at once with one line naming what to do, and
// `verify status` lists the queued run. Fails on main before issue 10:
// --wait waits for ever, status says nothing is queued.
func TestVerifyWaitWithoutADaemonFailsAtOnce(t *testing.T) {
	t.Parallel()
	a, _ := newTreeInstance(t, "nodaemon")
	start := time.Now()
	_, errs, code := a.run("verify", "--wait", "--timeout", "2m")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1] // before it: the embedded cluster's debug log lines
	if code != 1 || time.Since(start) > 30*time.Second || !strings.HasPrefix(last, "archivd: verify --wait: no archivd serve is running") {
		t.Fatalf("verify --wait without a daemon: exit %d after %s: %q", code, time.Since(start), errs)
	}
	a.cli(0, "verify") // queued for a daemon that is not there
	out := a.cli(0, "verify", "status")
	if !strings.Contains(out, "queued") || !strings.Contains(out, "no archivd serve is running") {
		t.Fatalf("verify status with a queued run and no daemon:\n%s", out)
	}
	// The hint works: verify here.
	a.cli(0, "verify", "--offline")
	// A started daemon works the queued run and counts as live.
	a.start()
	testutil.Eventually(t, 60*time.Second, "the queued run done", func() bool {
		return strings.Contains(a.cli(0, "verify", "status"), "no verify run queued or running")
	})
	a.cli(0, "verify", "--wait", "--timeout", "1m")
}
