package e2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestDataDirMovedAwayMidDownloadIsNotMadeAgain: B is downloading a
// dataset from A (upload limited, so it lasts) when its data directory
// is moved away, as an unmounted disk would take it. B does not make the
// directory again and write the rest there (on an unmounted mount point
// that fills the wrong file system): its next write marks the torrent
// unavailable (data_missing), it leaves the engine, and the directory
// stays absent. Moved back, the command the log line names (`archivd
// resume dataset`) brings it back, and the download completes
// bit-identical. (CI saw the lifecycle test's move-away step find the
// directory made again while it was away.)
func TestDataDirMovedAwayMidDownloadIsNotMadeAgain(t *testing.T) {
	t.Parallel()
	a, b, src := downloadingPair(t)
	data := filepath.Join(b.dir, "data", "dataset")
	away := moveAwayUntilUnavailable(t, b, data)
	if err := os.Rename(away, data); err != nil {
		t.Fatalf("move the data directory back: %v (did B make it again?)", err)
	}
	resumeAsLogged(t, b)
	waitCompleteAndSame(t, b, src, data)
	a.stop()
	b.stop()
}

// TestDataDirLostForGoodIsDownloadedAgainOnForce: B's data directory
// goes away mid-download and never comes back (a disk lost for good).
// `archivd resume` says it is still missing (exit 6) and names --force;
// `archivd resume --force dataset` gives up the pieces recorded complete
// (without that, the daemon's check at the add held the torrent
// unavailable again: nothing could bring it back but rm), and B
// downloads the whole torrent afresh, bit-identical.
func TestDataDirLostForGoodIsDownloadedAgainOnForce(t *testing.T) {
	t.Parallel()
	a, b, src := downloadingPair(t)
	data := filepath.Join(b.dir, "data", "dataset")
	away := moveAwayUntilUnavailable(t, b, data)
	if err := os.RemoveAll(away); err != nil {
		t.Fatal(err)
	}
	out := b.cli(6, "resume", "dataset")
	if !strings.Contains(out, "archivd resume --force dataset") {
		t.Fatalf("resume with the data gone for good does not name --force:\n%s", out)
	}
	out = b.cli(0, "resume", "--force", "dataset")
	if !strings.Contains(out, "given up") {
		t.Fatalf("resume --force with the data directory gone:\n%s", out)
	}
	t.Logf("resume --force: %s", strings.TrimSpace(out))
	waitCompleteAndSame(t, b, src, data)
	a.stop()
	b.stop()
}

// TestDataDirMovedAwayWhileSeedingIsSeenAtOnce: A's data directory is
// moved away while B downloads from it. A does not keep "seeding"
// nothing until the next scrub: the first read for B that finds the
// directory missing marks the torrent unavailable (data_missing) and it
// leaves A's engine, so health shows it at once. Moved back, `archivd
// resume dataset` (the log line's command) brings it back and B
// completes bit-identical.
func TestDataDirMovedAwayWhileSeedingIsSeenAtOnce(t *testing.T) {
	t.Parallel()
	a, b, src := downloadingPair(t)
	away := moveAwayUntilUnavailable(t, a, src)
	if out := a.cli(2, "health"); !strings.Contains(out, "TORRENT_UNAVAILABLE") {
		t.Errorf("A's health with its data directory gone:\n%s", out)
	}
	if err := os.Rename(away, src); err != nil {
		t.Fatalf("move the data directory back: %v (did A make it again?)", err)
	}
	resumeAsLogged(t, a)
	waitCompleteAndSame(t, b, src, filepath.Join(b.dir, "data", "dataset"))
	a.stop()
	b.stop()
}

// downloadingPair starts A seeding a dataset (upload limited, so the
// transfer lasts) and B downloading it into its data root, and returns
// once B has a few pieces and not all.
func downloadingPair(t *testing.T) (a, b *instance, src string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
	tracker := testutil.StartTracker(t)
	a = newInstanceOpts(t, "a", instanceOpts{tracker: tracker.URL, network: "upload_rate: 2MiB"})
	b = newInstance(t, "b", tracker.URL, "")
	src = makeDataset(t, a.dir, rng)
	tfile := filepath.Join(a.dir, "dataset.torrent")
	tracker.Allow(t, a.adopt("science", src, "256KiB", tfile).InfoHash)
	b.importTorrent("science", filepath.Join(b.dir, "data"), tfile)
	a.start()
	b.start()
	var tj availJSON
	testutil.Eventually(t, 2*time.Minute, "B part-way through the download", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.PiecesComplete >= 4
	})
	if tj.PiecesComplete == tj.PieceCount {
		t.Fatalf("B finished before the move (%d pieces): the upload limit should make it last", tj.PieceCount)
	}
	return a, b, src
}

// moveAwayUntilUnavailable moves in's data directory data away and waits
// for the torrent to be unavailable by data_missing, out of the engine,
// with the directory not made again; it returns where the data went.
func moveAwayUntilUnavailable(t *testing.T, in *instance, data string) string {
	t.Helper()
	away := data + ".away"
	if err := os.Rename(data, away); err != nil {
		t.Fatal(err)
	}
	var tj availJSON
	testutil.Eventually(t, time.Minute, in.name+"'s torrent unavailable for its missing data directory", func() bool {
		in.cliJSON(&tj, "show", "dataset")
		return tj.Availability == "unavailable"
	})
	if tj.AvailabilityCause != "data_missing" || !strings.Contains(tj.AvailabilityReason, data) {
		t.Fatalf("%s show: %+v, want unavailable by data_missing naming %s", in.name, tj, data)
	}
	testutil.Eventually(t, 30*time.Second, "the torrent out of "+in.name+"'s engine", func() bool { return !in.inEngine(tj.InfoHash) })
	if _, err := os.Lstat(data); !os.IsNotExist(err) {
		t.Fatalf("%s made %s again while it was away (lstat: %v)", in.name, data, err)
	}
	return away
}

// resumeAsLogged runs the command in's log line names for the torrent.
func resumeAsLogged(t *testing.T, in *instance) {
	t.Helper()
	hint := "archivd resume dataset"
	if !strings.Contains(in.log.String(), hint) {
		t.Fatalf("%s's log does not name %q", in.name, hint)
	}
	out := in.cli(0, strings.Fields(hint)[1:]...)
	t.Logf("%s %s: %s", in.name, hint, strings.TrimSpace(out))
}

// waitCompleteAndSame waits for B to hold the whole dataset, ok, and
// compares it with the source.
func waitCompleteAndSame(t *testing.T, b *instance, src, data string) {
	t.Helper()
	var tj availJSON
	testutil.Eventually(t, 3*time.Minute, "B complete and ok after the directory came back", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.PiecesComplete == tj.PieceCount && tj.Availability == "ok"
	})
	if !sameTree(t, src, data) {
		t.Fatal("B's data differs from A's after the download completed")
	}
}
