package seeder

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// TestPartlyWrittenPiecesStayWithinTheUnverifiedWindow: what a SIGKILL
// costs is the pieces partly written at that moment (the engine fetches
// a partly written piece again whole; written but unrecorded whole pieces
// are hashed at the restart, TestSIGKILLBeforeCommitHashesNotFetches).
// The engine takes the chunks of every piece in its window in random
// order, and an anacrolix seed serves requests in random order, so every
// piece of the window is partly written at once: MaxUnverifiedBytes
// bounds them. B downloads 48 pieces from A at 2 MiB/s with a window of
// two pieces while the test reads which of B's pieces hold data
// (SEEK_DATA): never more than two are partly written. With the engine's
// default window (64 MiB, the whole torrent here) many are.
func TestPartlyWrittenPiecesStayWithinTheUnverifiedWindow(t *testing.T) {
	const pieceLen = 256 << 10
	dirA, dirB := t.TempDir(), filepath.Join(t.TempDir(), "data")
	srcA := filepath.Join(dirA, "ds")
	writeData(t, srcA, 23, map[string]int64{"a.bin": 8 << 20, "sub/b.bin": 4 << 20})
	tf := makeTorrent(t, srcA, pieceLen)
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	rowA := addTorrent(t, dbA, tf, srcA, true)
	rowB := addTorrent(t, dbB, tf, dirB, false)
	a := start(t, testConfig(t, "A"), dbA)
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { ts, ok := a.TorrentStatus(rowA.InfoHash); return ok && ts.State == "seeding" })
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	cfg := testConfig(t, "B")
	cfg.DownloadRate = 2 << 20
	cfg.MaxUnverifiedBytes = 2 * pieceLen
	b := start(t, cfg, dbB)

	most, samples := 0, 0
	tick := time.NewTicker(5 * time.Millisecond) // sampling pace
	defer tick.Stop()
	for end := time.Now().Add(2 * time.Minute); ; <-tick.C {
		part := partlyWritten(t, tf, dirB)
		samples++
		most = max(most, part)
		if most > 2 {
			t.Fatalf("%d pieces partly written at once with a window of 2 pieces", most)
		}
		if st, ok := b.TorrentStatus(rowB.InfoHash); ok && st.State == "seeding" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("B not seeding after 2 minutes (at most %d pieces partly written in %d samples)", most, samples)
		}
	}
	if most == 0 {
		t.Fatalf("no partly written piece seen in %d samples: the download was not observed", samples)
	}
	t.Logf("at most %d pieces partly written at once (%d samples)", most, samples)
}

// partlyWritten counts the pieces of tf in dir of which some bytes but
// not all hold data (SEEK_DATA/SEEK_HOLE; the store writes no zeros for
// what it has not received and preallocates nothing).
func partlyWritten(t *testing.T, tf *torrentfile.Torrent, dir string) int {
	t.Helper()
	data := make([]int64, tf.PieceCount)
	for _, f := range tf.Files {
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fd := int(fh.Fd())
		for off := int64(0); off < f.Length; {
			from, err := unix.Seek(fd, off, unix.SEEK_DATA)
			if err != nil || from >= f.Length {
				break
			}
			to, err := unix.Seek(fd, from, unix.SEEK_HOLE)
			if err != nil || to > f.Length {
				to = f.Length
			}
			for p := f.Offset + from; p < f.Offset+to; {
				next := min((p/tf.PieceLength+1)*tf.PieceLength, f.Offset+to)
				data[p/tf.PieceLength] += next - p
				p = next
			}
			off = to
		}
		fh.Close()
	}
	n := 0
	for p, d := range data {
		if d > 0 && d < min(tf.PieceLength, tf.TotalLength-int64(p)*tf.PieceLength) {
			n++
		}
	}
	return n
}
