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
	rng := rand.New(rand.NewPCG(11, uint64(time.Now().UnixNano())))
	tracker := testutil.StartTracker(t)
	a := newInstanceOpts(t, "a", instanceOpts{tracker: tracker.URL, network: "upload_rate: 2MiB"})
	b := newInstance(t, "b", tracker.URL, "")
	src := makeDataset(t, a.dir, rng)
	tfile := filepath.Join(a.dir, "dataset.torrent")
	tracker.Allow(t, a.adopt("science", src, "256KiB", tfile).InfoHash)
	root := filepath.Join(b.dir, "data")
	b.importTorrent("science", root, tfile)
	var tj availJSON
	b.cliJSON(&tj, "show", "dataset")
	a.start()
	b.start()

	data := filepath.Join(root, "dataset")
	testutil.Eventually(t, 2*time.Minute, "B part-way through the download", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.PiecesComplete >= 4
	})
	if tj.PiecesComplete == tj.PieceCount {
		t.Fatalf("B finished before the move (%d pieces): the upload limit should make it last", tj.PieceCount)
	}
	away := data + ".away"
	if err := os.Rename(data, away); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Minute, "B's torrent unavailable for its missing data directory", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.Availability == "unavailable"
	})
	if tj.AvailabilityCause != "data_missing" || !strings.Contains(tj.AvailabilityReason, data) {
		t.Fatalf("B show: %+v, want unavailable by data_missing naming %s", tj, data)
	}
	testutil.Eventually(t, 30*time.Second, "the torrent out of B's engine", func() bool { return !b.inEngine(tj.InfoHash) })
	if _, err := os.Lstat(data); !os.IsNotExist(err) {
		t.Fatalf("B made %s again while it was away (lstat: %v)", data, err)
	}
	hint := "archivd resume dataset"
	if !strings.Contains(b.log.String(), hint) {
		t.Fatalf("B's log does not name %q", hint)
	}
	if err := os.Rename(away, data); err != nil {
		t.Fatalf("move the data directory back: %v (did B make it again?)", err)
	}
	out := b.cli(0, strings.Fields(hint)[1:]...)
	t.Logf("%s: %s", hint, strings.TrimSpace(out))
	testutil.Eventually(t, 3*time.Minute, "B complete and ok after the directory came back", func() bool {
		b.cliJSON(&tj, "show", "dataset")
		return tj.PiecesComplete == tj.PieceCount && tj.Availability == "ok"
	})
	if !sameTree(t, src, data) {
		t.Fatal("B's data differs from A's after the download completed")
	}
	a.stop()
	b.stop()
}
