package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// seedSize is the payload of TestArchivdSeedsToClients: "a few hundred MB"
// (issue 5) by default, 512 MiB with ARCHIVD_INTEROP_BIG=1.
func seedSize() int64 {
	if os.Getenv("ARCHIVD_INTEROP_BIG") == "1" {
		return 512 << 20
	}
	return 256 << 20
}

// TestArchivdSeedsToClients: archivd seeds a multi-file torrent it created
// (nested directories, a zero-byte file, sizes not multiples of the piece
// length) through opentracker; aria2c, transmission and libtorrent each
// download it alone from archivd and end bit-identical. archivd's upload
// total then covers the three downloads.
func TestArchivdSeedsToClients(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	tracker := tk.URL
	size := seedSize()
	src := makeTree(t, t.TempDir(), "tree1", size, 1)
	want := hashTree(t, src)

	a := newArchivd(t, ctx, tracker)
	a.run("collection", "create", "c1")
	tor := filepath.Join(t.TempDir(), "tree1.torrent")
	a.run("add", "-c", "c1", "--piece-length", "256KiB", "--tracker", tracker, "--out", tor, src)
	tk.allow(t, tor)
	a.start()
	s := a.waitComplete("tree1", time.Minute)
	if s.PieceLength != 256<<10 || int64(s.PieceCount) < size/(256<<10) {
		t.Fatalf("created torrent: piece length %d, %d pieces", s.PieceLength, s.PieceCount)
	}
	timeout := 3 * time.Minute // transmission takes about 30 s for 256 MiB (its per-peer rate)

	t.Run("aria2c", func(t *testing.T) {
		dir := t.TempDir()
		d := aria2Download(t, ctx, tor, dir, timeout)
		sameTree(t, "aria2c", want, filepath.Join(dir, "tree1"))
		t.Logf("aria2c downloaded %d MiB from archivd in %s", size>>20, d.Round(time.Millisecond))
	})
	t.Run("transmission", func(t *testing.T) {
		dir := t.TempDir()
		// Transmission dials no loopback peer: archivd must learn its
		// address from the tracker, so archivd re-announces after it.
		a.stop()
		tr := startTransmission(t, ctx, dir)
		id := tr.add(tor, dir)
		tr.waitAnnounced(id, 30*time.Second)
		began := time.Now()
		a.start()
		tr.waitComplete(id, timeout)
		d := time.Since(began)
		tr.proc.kill() // it must not seed to the next client
		sameTreeNoEmpty(t, "transmission", want, filepath.Join(dir, "tree1"))
		t.Logf("transmission downloaded %d MiB from archivd in %s", size>>20, d.Round(time.Millisecond))
	})
	t.Run("libtorrent", func(t *testing.T) {
		dir := t.TempDir()
		began := time.Now()
		p := lt(t, ctx, "libtorrent-download", map[string]any{"mode": "download", "torrent": tor, "save_path": dir,
			"port": testutil.FreePort(t, "127.0.0.1"), "peers": []string{fmt.Sprintf("127.0.0.1:%d", a.port)}})
		ltWaitDone(t, p, "download", timeout)
		d := time.Since(began)
		sameTree(t, "libtorrent", want, filepath.Join(dir, "tree1"))
		t.Logf("libtorrent downloaded %d MiB from archivd in %s", size>>20, d.Round(time.Millisecond))
	})

	a.stop()
	after := a.show("tree1")
	if t.Failed() {
		return
	}
	if after.Uploaded < 3*s.PieceLength*int64(s.PieceCount-1) {
		t.Fatalf("archivd uploaded %d bytes, want at least 3 x %d", after.Uploaded, size)
	}
	t.Logf("archivd upload total: %d bytes", after.Uploaded)
}
