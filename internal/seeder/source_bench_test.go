package seeder

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// BenchmarkDownloadRepairWatch: node B downloads a 128 MiB two-file
// torrent (256 KiB pieces) from node A on loopback. watch=all: every piece
// has a finding being repaired in B's catalog, so B watches every piece and
// records the deliverer of every chunk it receives (the worst case of the
// repair-source record); watch=none: no piece is watched and the engine's
// callback only looks the piece up. Reported: MB/s from B's start until
// its catalog records every piece complete (median and mean of the runs).
func BenchmarkDownloadRepairWatch(b *testing.B) {
	src := filepath.Join(b.TempDir(), "ds")
	writeData(b, src, 5, map[string]int64{"a.bin": 96 << 20, "sub/b.bin": 32 << 20})
	tf := makeTorrent(b, src, 256<<10)
	for _, watch := range []string{"none", "all"} {
		b.Run("watch="+watch, func(b *testing.B) {
			var took time.Duration
			var runs []time.Duration
			for range b.N {
				b.StopTimer()
				// A fresh A each time: on loopback every B shares one
				// address, and a long-lived A stalled about every fourth
				// download for ~20 s (with or without watching).
				dbA := benchDB(b)
				rowA := addTorrent(b, dbA, tf, src, true)
				a := start(b, testConfig(b, "A"), dbA)
				testutil.Eventually(b, 10*time.Second, "A seeding", inEngine(a, rowA.InfoHash))
				dbB := benchDB(b)
				rowB := addTorrent(b, dbB, tf, filepath.Join(b.TempDir(), "ds"), false)
				seedPeer(b, dbB, rowB.ID, a.ListenAddr())
				if watch == "all" {
					pgtest.Exec(b, dbB, `INSERT INTO findings (torrent_id, piece, kind, state, node_id)
						SELECT $1, p, 'hash_mismatch', 'repairing', $3 FROM generate_series(0, $2 - 1) p`, rowB.ID, tf.PieceCount, dbB.NodeID())
				}
				b.StartTimer()
				began := time.Now()
				s := start(b, testConfig(b, "B"), dbB)
				testutil.Eventually(b, 2*time.Minute, "B complete", func() bool { return completeInCatalog(b, dbB, rowB) == tf.PieceCount })
				took += time.Since(began)
				runs = append(runs, time.Since(began))
				b.StopTimer()
				if watch == "all" && s.RepairSource(rowB.ID, tf.PieceCount/2) == "" {
					b.Fatal("watched piece has no recorded source")
				}
				_ = s.stop(b)
				_ = a.stop(b)
			}
			// Some downloads take 21-24 s in both modes: those went over uTP
			// (about 6 MB/s on loopback; the engine keeps whichever of TCP
			// and uTP handshakes first). The median is the figure to
			// compare; the mean and the count of slow runs are shown.
			slices.Sort(runs)
			med := runs[len(runs)/2]
			stalls := 0
			for _, r := range runs {
				if r > 5*time.Second {
					stalls++
				}
			}
			b.ReportMetric(float64(tf.TotalLength)/1e6/med.Seconds(), "MB/s-median")
			b.ReportMetric(float64(tf.TotalLength)*float64(b.N)/1e6/took.Seconds(), "MB/s-mean")
			b.ReportMetric(float64(stalls), "stalls")
		})
	}
}

// benchDB is openDB for benchmarks: a fresh catalog with collection "c".
func benchDB(b *testing.B) *catalog.DB {
	b.Helper()
	db := pgtest.Open(b, pgtest.URL(b))
	if _, err := db.CreateCollection(context.Background(), catalog.Collection{Name: "c"}); err != nil {
		b.Fatal(err)
	}
	return db
}
