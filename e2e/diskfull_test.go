package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// mountTmpfs mounts a tmpfs of size (mount(8) syntax) at a new directory,
// unmounted when the test ends. Root only.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func countLines(log, substr string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// TestDiskFullIsAStateWithAnAutomaticWayBack: B downloads a 25 MB dataset
// into an 8 MB file system. The disk filling up makes the torrent degraded
// (cause disk_full, shown by `archivd show`) with one log line, not a line
// per failed chunk; once the file system has room again (grown by the
// test), the download resumes by itself, completes, and the torrent is ok.
func TestDiskFullIsAStateWithAnAutomaticWayBack(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	small := mountTmpfs(t, "8m")
	tracker := testutil.StartTracker(t)
	a := newInstance(t, "a", tracker.URL, "")
	b := newInstance(t, "b", tracker.URL, "")
	src := makeDataset(t, a.dir, rng)
	tfile := filepath.Join(a.dir, "dataset.torrent")
	tracker.Allow(t, a.adopt("science", src, "256KiB", tfile).InfoHash)
	b.importTorrent("science", small, tfile)
	var tj availJSON
	a.start()
	b.start()

	testutil.Eventually(t, 2*time.Minute, "B degraded by a full disk", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.Availability == "degraded"
	})
	if tj.AvailabilityCause != "disk_full" || !strings.Contains(tj.AvailabilityReason, "no space left") {
		t.Fatalf("B show: %+v, want degraded by disk_full naming the error", tj)
	}
	// The health check follows the real fault: TORRENT_DEGRADED, ERR, and
	// its printed command shows the full file system.
	h := b.waitHealth("TORRENT_DEGRADED", true, time.Minute)
	if sev, _ := raised(h, "TORRENT_DEGRADED"); sev != "ERR" {
		t.Errorf("TORRENT_DEGRADED severity %s, want ERR for a full disk", sev)
	}
	for _, c := range h.Checks {
		if c.Code != "TORRENT_DEGRADED" {
			continue
		}
		f := strings.Fields(c.Command)
		out, err := exec.Command(f[0], f[1:]...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), small) || !strings.Contains(string(out), "100%") {
			t.Errorf("TORRENT_DEGRADED command %q: %v: %s (want the full tmpfs)", c.Command, err, out)
		}
	}
	// Not a wait for a state: the period over which no log flood may come,
	// two retries against the full disk (backoff 5 s, then about 10 s),
	// whose only trace is engine lines that are not to be counted on.
	time.Sleep(15 * time.Second)
	log := b.log.String()
	if n := countLines(log, "torrent degraded"); n != 1 {
		t.Errorf("%d 'torrent degraded' lines, want 1 per state change", n)
	}
	// Error lines: the state change and the health checks it raises, not
	// one per chunk in flight (the engine's line per failed chunk is
	// debug: 369 error lines once under -race). Each failed retry is one
	// warning; retries back off from 5 s, so at most 7 fit in the 3 min
	// 15 s this phase may last.
	errLines := countLines(log, `"level":"error"`)
	retries := countLines(log, "torrent still degraded")
	t.Logf("while the disk was full: %d error lines, by message %v; %d failed retries", errLines, errorsByMessage(log), retries)
	if errLines > 5 {
		t.Errorf("%d error lines while the disk was full, want at most 5: by message: %v", errLines, errorsByMessage(log))
	}
	if retries > 7 {
		t.Errorf("%d 'torrent still degraded' lines while the disk was full, want at most 7 (one per retry, backing off from 5 s)", retries)
	}

	if out, err := exec.Command("mount", "-o", "remount,size=64m", small).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v: %s", err, out)
	}
	testutil.Eventually(t, 4*time.Minute, "B complete and ok after the disk has room", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.PiecesComplete == tj.PieceCount && tj.Availability == "ok"
	})
	b.waitHealth("TORRENT_DEGRADED", false, time.Minute)
	if n := countLines(b.log.String(), "writing its data works"); n != 1 {
		t.Errorf("%d 'writing its data works' lines, want 1", n)
	}
	a.stop()
	b.stop()
}

// errorsByMessage counts a JSON log's error lines by message (what a
// flood is made of: it was the engine's line per failed chunk).
func errorsByMessage(log string) map[string]int {
	n := map[string]int{}
	for _, l := range strings.Split(log, "\n") {
		var line struct{ Level, Message string }
		if json.Unmarshal([]byte(l), &line) == nil && line.Level == "error" {
			n[line.Message]++
		}
	}
	return n
}
