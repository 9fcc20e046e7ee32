package seeder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// BenchmarkSeedThroughput: one leecher (aria2c or python3-libtorrent)
// downloads a 200 MiB three-file torrent on loopback from this package's
// seeder, found through a loopback opentracker. Reported: MB/s of the whole
// leecher run (start to exit), so the leecher's own limits are part of the
// figure. The comparison with transmission-daemon and libtorrent seeding
// the same data in the same run is interop/bench_test.go
// (bench/interop/run.sh), which drives all three as separate processes.
func BenchmarkSeedThroughput(b *testing.B) {
	for _, tool := range []string{"aria2c", "opentracker"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s not installed", tool)
		}
	}
	parent := b.TempDir()
	src := filepath.Join(parent, "ds")
	writeData(b, src, 9, map[string]int64{"a.bin": 120 << 20, "sub/b.bin": 60<<20 + 12345, "sub/deep/c.bin": 20 << 20})
	tracker := testutil.StartTracker(b)
	tf, err := torrentfile.Create(context.Background(), torrentfile.CreateOptions{Path: src, PieceLength: 1 << 20, Trackers: []string{tracker.URL}})
	if err != nil {
		b.Fatal(err)
	}
	tpath := filepath.Join(b.TempDir(), "ds.torrent")
	if err := os.WriteFile(tpath, tf.Raw, 0o644); err != nil {
		b.Fatal(err)
	}
	tracker.Allow(b, fmt.Sprintf("%x", tf.InfoHash))
	for _, leecher := range []string{"aria2c", "libtorrent"} {
		b.Run("seed=archivd/leecher="+leecher, func(b *testing.B) {
			stop := seedArchivd(b, tracker, tf, src)
			defer stop()
			b.SetBytes(tf.TotalLength)
			b.ResetTimer()
			for range b.N {
				if leecher == "aria2c" {
					leech(b, tpath)
				} else {
					leechLibtorrent(b, tpath)
				}
			}
		})
	}
}

func seedArchivd(b *testing.B, tracker *testutil.Tracker, tf *torrentfile.Torrent, src string) func() {
	db, err := catalog.Open(context.Background(), pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.CreateCollection(context.Background(), catalog.Collection{Name: "c"}); err != nil {
		b.Fatal(err)
	}
	row := addTorrent(b, db, tf, src, true)
	cfg := testConfig(b, "seed")
	cfg.Logger = testLogger(b).Level(3) // errors only
	s := start(b, cfg, db)
	testutil.Eventually(b, 30*time.Second, "archivd seeding", inEngine(s, row.InfoHash))
	tracker.WaitSeeders(b, tf.InfoHash, 1, 30*time.Second)
	return func() { _ = s.stop(b); db.Close() }
}

// leech downloads the torrent with aria2c into a fresh directory.
func leech(b *testing.B, tpath string) {
	dir := b.TempDir()
	cmd := exec.Command("aria2c", "--dir", dir, "--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false",
		"--bt-enable-lpd=false", "--seed-time=0", "--file-allocation=none", "--summary-interval=0",
		"--console-log-level=error", "--disable-ipv6=true", "--bt-stop-timeout=60", tpath)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("aria2c: %v\n%s", err, out)
	}
	b.StopTimer()
	_ = os.RemoveAll(dir)
	b.StartTimer()
}

const libtorrentLeech = `
import sys, time, libtorrent as lt
s = lt.session({'listen_interfaces': '127.0.0.1:%s', 'enable_dht': False, 'enable_lsd': False,
    'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False, 'enable_incoming_utp': False})
h = s.add_torrent({'ti': lt.torrent_info(sys.argv[1]), 'save_path': sys.argv[2]})
deadline = time.time() + 120
while not h.status().is_seeding:
    if time.time() > deadline:
        sys.exit('timeout')
    time.sleep(0.02)
`

// leechLibtorrent downloads the torrent with python3-libtorrent.
func leechLibtorrent(b *testing.B, tpath string) {
	dir := b.TempDir()
	script := filepath.Join(dir, "leech.py")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(libtorrentLeech, fmt.Sprint(testutil.FreePort(b, "127.0.0.1")))), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("/usr/bin/python3", script, tpath, dir).CombinedOutput(); err != nil {
		b.Fatalf("libtorrent leecher: %v\n%s", err, out)
	}
	b.StopTimer()
	_ = os.RemoveAll(dir)
	b.StartTimer()
}
