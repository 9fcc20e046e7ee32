package seeder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/version"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// smallTorrent writes a small multi-file data set under parent/name.
func smallTorrent(t *testing.T, parent, name string, seed uint64) (*torrentfile.Torrent, string) {
	dir := filepath.Join(parent, name)
	writeData(t, dir, seed, map[string]int64{"x.bin": 700 << 10, "y/z.bin": 300<<10 + 17})
	return makeTorrent(t, dir, 256<<10), dir
}

func inEngine(s *running, ih [20]byte) func() bool {
	return func() bool { ts, ok := s.TorrentStatus(ih); return ok && ts.State == "seeding" }
}

func notInEngine(s *running, ih [20]byte) func() bool {
	return func() bool { _, ok := s.TorrentStatus(ih); return !ok }
}

// TestCatalogChangesTakeEffectWithinASecond: pause, resume, add, pausing
// a collection and deleting, made in the catalog as the CLI does, reach
// the engine within a second through LISTEN/NOTIFY.
func TestCatalogChangesTakeEffectWithinASecond(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, pgtest.URL(t))
	root := t.TempDir()
	tf1, dir1 := smallTorrent(t, root, "one", 11)
	tf2, dir2 := smallTorrent(t, root, "two", 12)
	r1 := addTorrent(t, db, tf1, dir1, true)
	s := start(t, testConfig(t, "N"), db)
	testutil.Eventually(t, 10*time.Second, "first torrent seeding", inEngine(s, r1.InfoHash))
	testutil.Eventually(t, 5*time.Second, "listener up", func() bool { return s.Status().DBOK })

	steps := []struct {
		what   string
		change func() error
		cond   func() bool
	}{
		{"pause", func() error { return db.SetTorrentState(ctx, r1.ID, "paused") }, notInEngine(s, r1.InfoHash)},
		{"resume", func() error { return db.SetTorrentState(ctx, r1.ID, "active") }, inEngine(s, r1.InfoHash)},
		{"add", func() error { addTorrent(t, db, tf2, dir2, true); return nil }, inEngine(s, tf2.InfoHash)},
		{"pause collection", func() error { return db.SetCollectionState(ctx, "c", "paused") },
			func() bool { return notInEngine(s, r1.InfoHash)() && notInEngine(s, tf2.InfoHash)() }},
		{"resume collection", func() error { return db.SetCollectionState(ctx, "c", "active") },
			func() bool { return inEngine(s, r1.InfoHash)() && inEngine(s, tf2.InfoHash)() }},
		{"delete", func() error { return db.DeleteTorrent(ctx, r1.ID) }, notInEngine(s, r1.InfoHash)},
	}
	for _, st := range steps {
		t0 := time.Now()
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		testutil.Eventually(t, time.Second, st.what+" applied", st.cond)
		t.Logf("%s applied in %v", st.what, time.Since(t0))
	}
	if r := s.Status().DiskReadBytes; r != 0 {
		t.Fatalf("verified torrents were read at add: %d bytes", r)
	}
	if ts := s.Torrents(); len(ts) != 1 || ts[0].InfoHash != fmt.Sprintf("%x", tf2.InfoHash) || ts[0].State != "seeding" {
		t.Fatalf("torrents in the engine after delete: %+v", ts)
	}
}

// TestMissingDataHeldUnavailableNotDownloaded: a torrent the catalog
// records complete whose directory is gone (or an empty mount point) is
// marked unavailable with an event and not downloaded, although a peer
// has the data; once the data is back and the operator clears it, it
// seeds without downloading.
func TestMissingDataHeldUnavailableNotDownloaded(t *testing.T) {
	ctx := context.Background()
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", 21)
	rowA := addTorrent(t, dbA, tf, src, true)
	a := start(t, testConfig(t, "A"), dbA)
	gone := filepath.Join(t.TempDir(), "unmounted", "ds")
	rowB := addTorrent(t, dbB, tf, gone, true)
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	// An empty mount point: the directory exists, none of the files.
	tf2, src2 := smallTorrent(t, t.TempDir(), "ds2", 22)
	empty := t.TempDir()
	row2 := addTorrent(t, dbB, tf2, empty, true)

	b := start(t, testConfig(t, "B"), dbB)
	for _, r := range []catalog.Torrent{rowB, row2} {
		testutil.Eventually(t, 10*time.Second, "unavailable in catalog", func() bool {
			got, err := dbB.TorrentByID(ctx, r.ID)
			return err == nil && got.Availability == "unavailable" && got.AvailabilityReason != ""
		})
	}
	testutil.Eventually(t, 5*time.Second, "two unavailable events", func() bool {
		return pgtest.Int(t, dbB, `SELECT count(*) FROM events WHERE kind = 'unavailable'`) == 2
	})
	b.reconcileFully(t)
	if _, ok := b.TorrentStatus(rowB.InfoHash); ok {
		t.Fatal("unavailable torrent is in the engine")
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Fatalf("data directory of an unavailable torrent was created: %v", err)
	}
	if st := b.Status(); st.Unavailable != 2 || st.DiskWrittenBytes != 0 {
		t.Fatalf("status: %+v", st)
	}
	if ts, _ := a.TorrentStatus(rowA.InfoHash); ts.UploadedBytes != 0 {
		t.Fatalf("A uploaded %d bytes to a node whose data is missing", ts.UploadedBytes)
	}
	// The disk is back: the operator clears the flag (archivd resume).
	if err := os.CopyFS(gone, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := dbB.SetAvailability(ctx, rowB.ID, catalog.AvailabilityOf{State: catalog.AvailabilityOK}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Second, "cleared torrent seeding", inEngine(b, rowB.InfoHash))
	if st := b.Status(); st.DiskWrittenBytes != 0 {
		t.Fatalf("cleared torrent was downloaded: %+v", st)
	}
	_ = src2
}

// TestMagnetFetchesMetadataThenDownloads: a catalog torrent with only a
// magnet gets its metadata from a peer, stored in the catalog with its
// files, and is then downloaded bit-identically.
func TestMagnetFetchesMetadataThenDownloads(t *testing.T) {
	ctx := context.Background()
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", 31)
	addTorrent(t, dbA, tf, src, true)
	a := start(t, testConfig(t, "A"), dbA)
	dirB := filepath.Join(t.TempDir(), "ds")
	rowB, err := dbB.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: tf.InfoHash, Name: "ds",
		Magnet: fmt.Sprintf("magnet:?xt=urn:btih:%x&dn=ds", tf.InfoHash), DataDir: dirB})
	if err != nil {
		t.Fatal(err)
	}
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 30*time.Second, "metadata in catalog", func() bool {
		r, err := dbB.TorrentByID(ctx, rowB.ID)
		if err == nil && r.HasMetainfo() {
			rowB = r
			return true
		}
		return false
	})
	files, err := dbB.Files(ctx, rowB.ID)
	if err != nil || len(files) != len(tf.Files) || rowB.PieceCount != tf.PieceCount {
		t.Fatalf("stored files %v (%v), pieces %d", files, err, rowB.PieceCount)
	}
	testutil.Eventually(t, 30*time.Second, "magnet download complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, src, dirB)
}

// TestMarkBadRefetchesPiece: verification hands over a damaged piece; it
// is durably not complete when MarkBad returns, then fetched again from
// the peer and the file is whole again.
func TestMarkBadRefetchesPiece(t *testing.T) {
	ctx := context.Background()
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", 41)
	addTorrent(t, dbA, tf, src, true)
	a := start(t, testConfig(t, "A"), dbA)
	dirB := filepath.Join(t.TempDir(), "ds")
	if err := os.CopyFS(dirB, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	rowB := addTorrent(t, dbB, tf, dirB, true)
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	b := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 10*time.Second, "B seeding", inEngine(b, rowB.InfoHash))
	f, err := os.OpenFile(filepath.Join(dirB, "x.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("bitrot!"), 256<<10+100); err != nil { // inside piece 1
		t.Fatal(err)
	}
	f.Close()
	if err := b.MarkBad(ctx, rowB.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	ps, err := dbB.LoadPieces(ctx, rowB.ID, rowB.PieceCount)
	if err != nil || !ps.Known.Get(1) || ps.Complete.Get(1) {
		t.Fatalf("piece 1 not durably not-complete after MarkBad: %v", err)
	}
	testutil.Eventually(t, 20*time.Second, "piece 1 repaired", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, src, dirB)
	// A delivered it: its listen address and the client name of its
	// extended handshake. Told once.
	if got, want := b.RepairSource(rowB.ID, 1), fmt.Sprintf("peer %s (%s)", a.ListenAddr(), version.DefaultExtendedHandshakeClientVersion); got != want {
		t.Fatalf("repair source %q, want %q", got, want)
	}
	if got := b.RepairSource(rowB.ID, 1); got != "" {
		t.Fatalf("repair source told twice: %q", got)
	}
	if got := b.RepairSource(rowB.ID, 0); got != "" {
		t.Fatalf("source of piece 0, never handed over: %q", got)
	}
	if err := b.MarkBad(ctx, rowB.ID, []int{tf.PieceCount}); err == nil {
		t.Fatal("MarkBad accepted a piece index out of range")
	}
}

// TestBadTorrentDoesNotStopOthers: a torrent whose storage cannot be
// registered (a relative data directory) is left out with one event, even
// over repeated reconciles, while a good one seeds.
func TestBadTorrentDoesNotStopOthers(t *testing.T) {
	db := openDB(t, pgtest.URL(t))
	root := t.TempDir()
	tfGood, dirGood := smallTorrent(t, root, "good", 61)
	tfBad, _ := smallTorrent(t, root, "bad", 62)
	good := addTorrent(t, db, tfGood, dirGood, true)
	bad := addTorrent(t, db, tfBad, "relative/bad", false)
	s := start(t, testConfig(t, "N"), db)
	testutil.Eventually(t, 10*time.Second, "good torrent seeding", inEngine(s, good.InfoHash))
	for range 3 {
		s.reconcileFully(t)
	}
	if _, ok := s.TorrentStatus(bad.InfoHash); ok {
		t.Fatal("torrent with a relative data directory is in the engine")
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'seeder_add_failed' AND torrent_id = $1`, bad.ID); n != 1 {
		t.Fatalf("add-failed events: %d, want 1", n)
	}
}

// TestTorrentWhoseStorageCannotOpenIsLeftOut: the engine takes a torrent
// with its info in one add, which does not return the storage's open
// error; a torrent whose empty file cannot be created (a directory stands
// at its path) is still left out of the engine with one event naming the
// storage's reason, while a good one seeds.
func TestTorrentWhoseStorageCannotOpenIsLeftOut(t *testing.T) {
	db := openDB(t, pgtest.URL(t))
	root := t.TempDir()
	tfGood, dirGood := smallTorrent(t, root, "good", 63)
	dirBad := filepath.Join(root, "bad")
	writeData(t, dirBad, 64, map[string]int64{"data.bin": 40_000, "empty": 0})
	tfBad := makeTorrent(t, dirBad, 16384)
	if err := os.Remove(filepath.Join(dirBad, "empty")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dirBad, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := addTorrent(t, db, tfGood, dirGood, true)
	bad := addTorrent(t, db, tfBad, dirBad, true)
	s := start(t, testConfig(t, "N"), db)
	testutil.Eventually(t, 10*time.Second, "good torrent seeding", inEngine(s, good.InfoHash))
	for range 2 {
		s.reconcileFully(t)
	}
	if _, ok := s.TorrentStatus(bad.InfoHash); ok {
		t.Fatal("torrent whose storage cannot open is in the engine")
	}
	if n := pgtest.Int(t, db, `SELECT count(*) FROM events WHERE kind = 'seeder_add_failed' AND torrent_id = $1 AND message LIKE '%open storage%create empty file empty%'`, bad.ID); n != 1 {
		t.Fatalf("add-failed events naming the storage's reason: %d, want 1", n)
	}
}

// TestRememberedPeerDialledAgain: B's remembered peer A does not have the
// torrent yet when B starts (the handshake fails and the engine forgets
// the peer); once A has it, B dials A again by itself and completes.
func TestRememberedPeerDialledAgain(t *testing.T) {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", 71)
	a := start(t, testConfig(t, "A"), dbA)
	dirB := filepath.Join(t.TempDir(), "ds")
	rowB := addTorrent(t, dbB, tf, dirB, false)
	seedPeer(t, dbB, rowB.ID, a.ListenAddr())
	b := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 10*time.Second, "B downloading", func() bool { _, ok := b.TorrentStatus(rowB.InfoHash); return ok })
	// B's first dial fails (A does not have the torrent). Kept as a pause:
	// nothing observable says B has dialled and failed (A's engine counts
	// no refused handshake for it); if B were slower the test would only
	// be weaker, not wrong.
	time.Sleep(time.Second)
	rowA := addTorrent(t, dbA, tf, src, true)
	testutil.Eventually(t, 5*time.Second, "A seeding", inEngine(a, rowA.InfoHash))
	testutil.Eventually(t, 20*time.Second, "B complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, src, dirB)
}
