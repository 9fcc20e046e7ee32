package seeder

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	pgtest.Main(m)
}

// openDB opens a fresh migrated catalog with one collection "c".
func openDB(t *testing.T, url string) *catalog.DB {
	t.Helper()
	ctx := context.Background()
	db := pgtest.Open(t, url)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil && !errors.Is(err, catalog.ErrExists) {
		t.Fatal(err)
	}
	return db
}

// writeData creates files of the given sizes under dir with seeded random
// content, so two calls with the same seed give the same bytes.
func writeData(t testing.TB, dir string, seed uint64, sizes map[string]int64) {
	t.Helper()
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	buf := make([]byte, 1<<20)
	for _, name := range sortedKeys(sizes) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		for left := sizes[name]; left > 0; {
			n := min(left, int64(len(buf)))
			_, _ = r.Read(buf[:n])
			if _, err := f.Write(buf[:n]); err != nil {
				t.Fatal(err)
			}
			left -= n
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func sortedKeys(m map[string]int64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// makeTorrent hashes dir into a torrent with the given piece length.
func makeTorrent(t testing.TB, dir string, pieceLength int64) *torrentfile.Torrent {
	t.Helper()
	tf, err := torrentfile.Create(context.Background(), torrentfile.CreateOptions{Path: dir, PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

// addTorrent records tf in collection "c" with its data in dataDir.
func addTorrent(t testing.TB, db *catalog.DB, tf *torrentfile.Torrent, dataDir string, verified bool) catalog.Torrent {
	t.Helper()
	files := make([]catalog.File, len(tf.Files))
	for i, f := range tf.Files {
		files[i] = catalog.File{Index: f.Index, Path: f.Path, Length: f.Length, Offset: f.Offset}
	}
	row, err := db.AddTorrent(context.Background(), catalog.NewTorrent{Collection: "c", InfoHash: tf.InfoHash,
		Name: tf.Name, Metainfo: tf.Raw, PieceLength: tf.PieceLength, PieceCount: tf.PieceCount,
		TotalLength: tf.TotalLength, DataDir: dataDir, Files: files, Verified: verified})
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func testLogger(t testing.TB) zerolog.Logger {
	if testing.Verbose() {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

// testConfig is a loopback-only configuration: no DHT, PEX, UPnP.
func testConfig(t testing.TB, node string) Config {
	return Config{ListenHost: "127.0.0.1", NodeID: node, CommitInterval: 100 * time.Millisecond,
		ReconcileInterval: time.Minute, StatsInterval: time.Second, Logger: testLogger(t)}
}

// running is a seeder started by a test; stop stops it cleanly.
type running struct {
	*Seeder
	cancel context.CancelFunc
	done   chan error
}

func start(t testing.TB, cfg Config, db *catalog.DB) *running {
	t.Helper()
	s, err := New(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Seeder: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// reconcileFully asks for a full reconcile and waits until one that began
// after the request has ended: whatever it would change has changed.
func (r *running) reconcileFully(t testing.TB) {
	t.Helper()
	want := r.fullBegun.Load() + 1
	r.requestFull()
	testutil.Eventually(t, 30*time.Second, "a full reconcile", func() bool { return r.fullEnded.Load() >= want })
}

func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("seeder did not stop within 60s")
		return nil
	}
}

// completeInCatalog counts the pieces the catalog records complete.
func completeInCatalog(t testing.TB, db *catalog.DB, row catalog.Torrent) int {
	t.Helper()
	n, err := db.CompletedPieces(context.Background(), row.ID, row.PieceCount)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkRecordedPieces hashes every piece the catalog records complete and
// fails the test for any that does not match: the crash-consistency claim.
func checkRecordedPieces(t testing.TB, db *catalog.DB, row catalog.Torrent, tf *torrentfile.Torrent) int {
	t.Helper()
	ps, err := db.LoadPieces(context.Background(), row.ID, row.PieceCount)
	if err != nil {
		t.Fatal(err)
	}
	data := concatReader(t, row.DataDir, tf)
	buf := make([]byte, tf.PieceLength)
	n := 0
	for i := 0; i < tf.PieceCount; i++ {
		l := min(tf.PieceLength, tf.TotalLength-int64(i)*tf.PieceLength)
		if !ps.Known.Get(i) || !ps.Complete.Get(i) {
			continue
		}
		n++
		got, err := data.ReadAt(buf[:l], int64(i)*tf.PieceLength)
		if err != nil && !(errors.Is(err, io.EOF) && int64(got) == l) {
			t.Fatalf("piece %d recorded complete but unreadable: %v", i, err)
		}
		h := sha1.Sum(buf[:l])
		if !bytes.Equal(h[:], tf.Info.Pieces[i*20:i*20+20]) {
			t.Fatalf("piece %d recorded complete but its data does not match its hash", i)
		}
	}
	return n
}

// multiReader reads a torrent's files as one byte range.
type multiReader struct {
	files []*os.File
	tf    *torrentfile.Torrent
}

func concatReader(t testing.TB, dataDir string, tf *torrentfile.Torrent) *multiReader {
	m := &multiReader{tf: tf}
	for _, f := range tf.Files {
		fh, err := os.Open(filepath.Join(dataDir, filepath.FromSlash(f.Path)))
		if err != nil {
			fh = nil
		}
		m.files = append(m.files, fh)
	}
	t.Cleanup(func() {
		for _, f := range m.files {
			if f != nil {
				f.Close()
			}
		}
	})
	return m
}

func (m *multiReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for i, f := range m.tf.Files {
		if n == len(p) {
			break
		}
		pos := off + int64(n)
		if pos < f.Offset || pos >= f.Offset+f.Length {
			continue
		}
		if m.files[i] == nil {
			return n, os.ErrNotExist
		}
		want := min(int64(len(p)-n), f.Offset+f.Length-pos)
		got, err := m.files[i].ReadAt(p[n:n+int(want)], pos-f.Offset)
		n += got
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// sameFiles fails unless every file of tf is identical in both dirs.
func sameFiles(t testing.TB, tf *torrentfile.Torrent, a, b string) {
	t.Helper()
	for _, f := range tf.Files {
		x, err := os.ReadFile(filepath.Join(a, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("file %s differs", f.Path)
		}
	}
}

// seedPeer tells db that torrent id can be fetched from addr.
func seedPeer(t testing.TB, db *catalog.DB, id int64, addr string) {
	t.Helper()
	if err := db.SavePeers(context.Background(), []catalog.Peer{{TorrentID: id, Addr: addr, Source: "test"}}); err != nil {
		t.Fatal(err)
	}
}
