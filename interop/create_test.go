package interop

import (
	"path/filepath"
	"testing"
	"time"
)

// TestArchivdCreatedTorrentVerifiedByClients: a torrent made by
// `archivd add DIR --out` is accepted by transmission and libtorrent, and
// each of them, checking the same files from disk, finds every piece good.
func TestArchivdCreatedTorrentVerifiedByClients(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	parent := t.TempDir()
	src := makeTree(t, parent, "tree4", dataSize(), 4)
	a := newArchivd(t, ctx)
	a.run("collection", "create", "c4")
	tor := filepath.Join(t.TempDir(), "tree4.torrent")
	// Default piece length (chosen by size) on purpose.
	a.run("add", "-c", "c4", "--tracker", "http://127.0.0.1:1/announce", "--out", tor, src)
	s := a.show("tree4")

	t.Run("transmission", func(t *testing.T) {
		tr := startTransmission(t, ctx, t.TempDir())
		id := tr.add(tor, parent)
		st := tr.verify(id, 2*time.Minute)
		if st.PercentDone != 1 || st.HaveValid != st.SizeWhenDone || st.SizeWhenDone != s.totalLength() {
			t.Fatalf("transmission after verify: %+v, torrent %d bytes", st, s.totalLength())
		}
	})
	t.Run("libtorrent", func(t *testing.T) {
		p := lt(t, ctx, "libtorrent-check", map[string]any{"mode": "check", "torrent": tor, "save_path": parent})
		st := ltWaitDone(t, p, "check", 2*time.Minute)
		if st.Pieces != s.PieceCount || st.NumPieces != s.PieceCount || st.Progress != 1 {
			t.Fatalf("libtorrent after check: %+v, want %d pieces", st, s.PieceCount)
		}
	})
	t.Run("detects_damage", func(t *testing.T) {
		// The same checks must fail on damaged data (the test can fail).
		corruptAt(t, filepath.Join(src, "top.bin"), 1000, 10)
		p := lt(t, ctx, "libtorrent-check", map[string]any{"mode": "check", "torrent": tor, "save_path": parent})
		if st := ltWaitDone(t, p, "check", 2*time.Minute); st.Pieces != s.PieceCount-1 {
			t.Fatalf("libtorrent after damage: %d of %d pieces good, want one bad", st.Pieces, s.PieceCount)
		}
	})
}

// TestMktorrentImportSeededToAria2: a torrent made by mktorrent, imported
// with `archivd add -c C file.torrent` into a collection whose data root
// already holds the data, is hashed by archivd at start and seeded to
// aria2c bit-identically.
func TestMktorrentImportSeededToAria2(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	root := t.TempDir()
	src := makeTree(t, root, "tree5", dataSize(), 5)
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "tree5.torrent")
	mktorrent(t, ctx, src, tor, 18, tk.URL)
	tk.allow(t, tor)

	a := newArchivd(t, ctx, tk.URL)
	a.run("collection", "create", "--data-root", root, "mk")
	a.run("add", "-c", "mk", tor)
	if s := a.show("tree5"); s.PiecesKnown != 0 || s.DataDir != src {
		t.Fatalf("imported: %d pieces known (want 0, not yet hashed), data dir %s (want %s)", s.PiecesKnown, s.DataDir, src)
	}
	a.start()
	a.waitComplete("tree5", 2*time.Minute)

	dir := t.TempDir()
	d := aria2Download(t, ctx, tor, dir, 90*time.Second)
	sameTree(t, "aria2c", want, filepath.Join(dir, "tree5"))
	t.Logf("aria2c downloaded %d MiB from archivd in %s", dataSize()>>20, d.Round(time.Millisecond))
}
