package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// makeBigDataset writes files*each bytes of random data under root/big.
func makeBigDataset(b testing.TB, root string, files int, each int64) string {
	b.Helper()
	dir := filepath.Join(root, "big")
	rng := rand.NewChaCha8([32]byte{7})
	buf := make([]byte, 8<<20)
	for i := 0; i < files; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("part-%03d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		for left := each; left > 0; left -= int64(len(buf)) {
			n := min(left, int64(len(buf)))
			rng.Read(buf[:n])
			if _, err := f.Write(buf[:n]); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
	return dir
}

// BenchmarkRedownloadAfterSIGKILLAtHalf: B downloads a 1 GiB torrent from
// A, is SIGKILLed once half of its pieces are recorded complete, restarts
// and finishes. Reported: what A sent in total against the torrent size,
// and the MiB sent twice (what the kill cost).
//
//	unshare --net sh -c 'ip link set lo up && go test -run "^$" -bench RedownloadAfterSIGKILL -benchtime 1x -count 3 ./e2e/'
func BenchmarkRedownloadAfterSIGKILLAtHalf(b *testing.B) {
	for range b.N {
		tracker := testutil.StartTracker(b)
		a := newInstance(b, "a", tracker.URL, "")
		dst := newInstance(b, "b", tracker.URL, "")
		src := makeBigDataset(b, a.dir, 8, 128<<20)
		tfile := filepath.Join(a.dir, "big.torrent")
		tracker.Allow(b, a.adopt("c", src, "4MiB", tfile).InfoHash)
		dst.importTorrent("c", filepath.Join(dst.dir, "data"), tfile)
		size := float64(int64(8) * 128 << 20)

		b.ResetTimer()
		a.start()
		dst.start()
		var tb torrentJSON
		testutil.Eventually(b, 5*time.Minute, "half downloaded", func() bool {
			dst.cliJSON(&tb, "show", "big")
			return tb.PiecesComplete*2 >= tb.PieceCount
		})
		dst.kill()
		atKill := tb.PiecesComplete
		dst.start()
		testutil.Eventually(b, 5*time.Minute, "complete", func() bool {
			dst.cliJSON(&tb, "show", "big")
			return tb.PiecesComplete == tb.PieceCount
		})
		b.StopTimer()
		sent := a.metrics()["archivd_uploaded_bytes_total"]
		b.ReportMetric(sent/size, "sent/size")
		b.ReportMetric((sent-size)/(1<<20), "MiB-sent-twice")
		b.ReportMetric(float64(atKill)/float64(tb.PieceCount)*100, "%-complete-at-kill")
		if !sameTree(b, src, tb.DataDir) {
			b.Fatal("copy differs")
		}
		a.stop()
		dst.stop()
	}
}
