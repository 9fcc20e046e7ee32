//go:build interopbench

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchSize: ARCHIVD_INTEROP_BENCH_MB (default 256) MiB of data.
func benchSize() int64 {
	if n, err := strconv.Atoi(os.Getenv("ARCHIVD_INTEROP_BENCH_MB")); err == nil && n > 0 {
		return int64(n) << 20
	}
	return 256 << 20
}

func mibps(n int64, d time.Duration) string {
	return fmt.Sprintf("%.0f MiB/s", float64(n)/(1<<20)/d.Seconds())
}

// TestInteropBench measures, on one data set and in one run:
//   - seeding to one libtorrent leecher: from archivd, from libtorrent
//     (transmission-daemon is not measured: it does not upload on loopback
//     here, see docs/INTEROP.md);
//   - downloading from one libtorrent seeder: by archivd, aria2c,
//     libtorrent.
//
// Times run from the leecher's start to its last verified piece (archivd:
// to the catalog recording every piece, polled every 200 ms).
// Run with bench/interop/run.sh.
func TestInteropBench(t *testing.T) {
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	size := benchSize()
	// libtorrent prefers uTP, which is much slower than TCP on loopback;
	// ARCHIVD_INTEROP_LT_TCP=1 turns it off in the libtorrent peers.
	tcpOnly := os.Getenv("ARCHIVD_INTEROP_LT_TCP") == "1"
	t.Logf("BENCH libtorrent tcp_only=%v", tcpOnly)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "bench", size, 42)
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "bench.torrent")
	ltCreate(t, ctx, src, tor, 1<<20, tk.URL)
	tk.allow(t, tor)
	ltLeech := func(name string, peer int) time.Duration {
		dir := t.TempDir()
		began := time.Now()
		p := lt(t, ctx, name, map[string]any{"mode": "download", "torrent": tor, "save_path": dir,
			"port": freePort(t), "peers": []string{fmt.Sprintf("127.0.0.1:%d", peer)}, "tcp_only": tcpOnly})
		ltWaitDone(t, p, name, 5*time.Minute)
		d := time.Since(began)
		sameTree(t, name, want, filepath.Join(dir, "bench"))
		p.kill()
		return d
	}

	// Seeding: archivd imports the data in place and seeds it.
	a := newArchivd(t, ctx, tk.URL)
	a.run("collection", "create", "--data-root", seedDir, "b")
	a.run("add", "-c", "b", tor)
	a.start()
	a.waitComplete("bench", 5*time.Minute)
	dArch := ltLeech("lt-from-archivd", a.port)
	a.stop()
	t.Logf("BENCH seed-to-libtorrent size=%dMiB archivd=%s (%s)", size>>20, dArch.Round(time.Millisecond), mibps(size, dArch))

	// Seeding by libtorrent, and downloading from a libtorrent seeder.
	port := freePort(t)
	ltSeedOpts(t, ctx, map[string]any{"torrent": tor, "save_path": seedDir, "port": port, "tcp_only": tcpOnly})
	dLt := ltLeech("lt-from-lt", port)
	t.Logf("BENCH seed-to-libtorrent size=%dMiB libtorrent=%s (%s)", size>>20, dLt.Round(time.Millisecond), mibps(size, dLt))

	dir := t.TempDir()
	dAria := aria2Download(t, ctx, tor, dir, 5*time.Minute)
	sameTree(t, "aria2c", want, filepath.Join(dir, "bench"))
	t.Logf("BENCH download-from-libtorrent size=%dMiB aria2c=%s (%s)", size>>20, dAria.Round(time.Millisecond), mibps(size, dAria))
	t.Logf("BENCH download-from-libtorrent size=%dMiB libtorrent=%s (%s)", size>>20, dLt.Round(time.Millisecond), mibps(size, dLt))

	b := newArchivd(t, ctx, tk.URL)
	b.run("collection", "create", "dl")
	b.run("add", "-c", "dl", tor)
	began := time.Now()
	b.start()
	s := b.waitComplete("bench", 5*time.Minute)
	dB := time.Since(began)
	sameTree(t, "archivd", want, s.DataDir)
	t.Logf("BENCH download-from-libtorrent size=%dMiB archivd=%s (%s, includes daemon start)", size>>20, dB.Round(time.Millisecond), mibps(size, dB))
}
