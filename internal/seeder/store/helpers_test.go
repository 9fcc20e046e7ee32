package store

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testPieceLen = 16 << 10

// fixture is a multi-file torrent whose original data lives under src.
type fixture struct {
	src  string // directory holding name/...
	mi   *metainfo.MetaInfo
	info metainfo.Info
	ih   [20]byte
	cat  catalog.Torrent
	fs   []catalog.File
}

// makeTorrent writes random files (sizes in bytes) under a new source
// directory, builds the metainfo and stores it in db with dataDir.
func makeTorrent(t testing.TB, db *catalog.DB, name string, sizes []int, dataDir string) *fixture {
	t.Helper()
	return makeTorrentPL(t, db, name, sizes, dataDir, testPieceLen)
}

func makeTorrentPL(t testing.TB, db *catalog.DB, name string, sizes []int, dataDir string, pieceLen int64) *fixture {
	t.Helper()
	src := t.TempDir()
	root := filepath.Join(src, name)
	rng := rand.New(rand.NewPCG(uint64(len(name)), uint64(len(sizes))))
	for i, n := range sizes {
		p := filepath.Join(root, fmt.Sprintf("d%d", i%2), fmt.Sprintf("f%d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n+8)
		for j := 0; j < n; j += 8 {
			binary.LittleEndian.PutUint64(b[j:], rng.Uint64())
		}
		b = b[:n]
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := metainfo.Info{PieceLength: pieceLen}
	if err := info.BuildFromFilePath(root); err != nil {
		t.Fatal(err)
	}
	ib, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	mi := &metainfo.MetaInfo{InfoBytes: ib}
	mib, err := bencode.Marshal(mi)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{src: src, mi: mi, info: info, ih: mi.HashInfoBytes()}
	var off int64
	for i, fi := range info.UpvertedFiles() {
		f.fs = append(f.fs, catalog.File{Index: i, Path: strings.Join(fi.BestPath(), "/"), Length: fi.Length, Offset: off})
		off += fi.Length
	}
	ctx := context.Background()
	if _, err := db.Collection(ctx, "test"); err != nil {
		if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "test", DataRoot: "/srv"}); err != nil {
			t.Fatal(err)
		}
	}
	f.cat, err = db.AddTorrent(ctx, catalog.NewTorrent{Collection: "test", InfoHash: f.ih, Name: name, Metainfo: mib,
		PieceLength: info.PieceLength, PieceCount: info.NumPieces(), TotalLength: info.TotalLength(), DataDir: dataDir, Files: f.fs})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// clientConfig is a loopback-only client configuration on st.
func clientConfig(t testing.TB, st storage.ClientImpl) *torrent.ClientConfig {
	cfg := torrent.NewDefaultClientConfig()
	cfg.DataDir = t.TempDir()
	cfg.DefaultStorage = st
	cfg.NoDHT, cfg.DisablePEX, cfg.NoDefaultPortForwarding = true, true, true
	cfg.DisableTrackers, cfg.DisableWebtorrent, cfg.DisableWebseeds = true, true, true
	cfg.DisableIPv6, cfg.DisableUTP = true, true
	cfg.ListenHost = func(string) string { return "127.0.0.1" }
	cfg.ListenPort = 0
	cfg.DropMutuallyCompletePeers = false
	cfg.Seed = true
	// As archivd's engine (seeder.writerWakeBound, which this package
	// cannot import): the engine's writer can miss a wake-up and sleep
	// until its keepalive timer, a minute by default.
	cfg.KeepAliveTimeout = time.Second
	return cfg
}

// newClient returns a loopback-only client on st.
func newClient(t testing.TB, st storage.ClientImpl) *torrent.Client {
	t.Helper()
	cl, err := torrent.NewClient(clientConfig(t, st))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// newSeeder serves f's original data with the library's file storage.
func newSeeder(t testing.TB, f *fixture) *torrent.Client {
	t.Helper()
	cl := newClient(t, storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: f.src, PieceCompletion: storage.NewMapPieceCompletion()}))
	tt, err := cl.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tt, 30*time.Second)
	return cl
}

func addPeer(tt *torrent.Torrent, from *torrent.Client) {
	tt.AddPeers([]torrent.PeerInfo{{Addr: loopback(from.LocalPort()), Trusted: true}})
}

func loopback(port int) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// waitComplete waits for tt to complete, re-adding the given peers when
// it has no connection (the engine does not redial a failed peer soon).
func waitComplete(t testing.TB, tt *torrent.Torrent, d time.Duration, peers ...*torrent.Client) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tt.Complete().On():
			return
		case <-tick.C:
			if len(tt.PeerConns()) == 0 {
				for _, p := range peers {
					addPeer(tt, p)
				}
			}
		case <-deadline:
			// What a stall looks like from here (a stall's cause was
			// not found once: see TestSigkillMidDownloadCatalogMatchesDisk).
			var sb strings.Builder
			for i := 0; i < tt.NumPieces(); i++ {
				if st := tt.PieceState(i); !st.Complete {
					fmt.Fprintf(&sb, "piece %d: %+v\n", i, st)
				}
			}
			for _, pc := range tt.PeerConns() {
				fmt.Fprintf(&sb, "conn %v\n", pc)
			}
			fmt.Fprintf(&sb, "torrent stats: %+v\n", tt.Stats())
			for _, p := range peers {
				fmt.Fprintf(&sb, "peer %d bans %v\n", p.LocalPort(), p.BadPeerIPs())
			}
			t.Log(sb.String())
			logEngines(t, tt, peers)
			t.Fatalf("torrent %s not complete after %v: %d of %d bytes", tt.Name(), d, tt.BytesCompleted(), tt.Length())
		}
	}
}

// waitPiece waits until piece p is complete and settled in the engine,
// re-adding the given peers when it has no connection.
func waitPiece(t testing.TB, tt *torrent.Torrent, p int, d time.Duration, peers ...*torrent.Client) {
	t.Helper()
	redial := time.Now().Add(time.Second)
	done := false
	t.Cleanup(func() {
		if !done && t.Failed() {
			// What the engine was doing (no peer active or pending after
			// the re-adds points to a ban of 127.0.0.1; a connection with
			// pieces wanted and nothing requested, or requests the peer
			// holds, to a writer that missed its wake-up: clientConfig).
			stats := tt.Stats()
			t.Logf("piece %d of %s: state %+v; peers active %d, pending %d, half-open %d; %d of %d bytes complete",
				p, tt.Name(), tt.PieceState(p), stats.ActivePeers, stats.PendingPeers, stats.HalfOpenPeers, tt.BytesCompleted(), tt.Length())
			logEngines(t, tt, peers)
		}
	})
	testutil.Eventually(t, d, fmt.Sprintf("piece %d of %s complete", p, tt.Name()), func() bool {
		st := tt.PieceState(p)
		if st.Complete && !st.Hashing && !st.QueuedForHash && !st.Marking {
			done = true
			return true
		}
		if time.Now().After(redial) && len(tt.PeerConns()) == 0 {
			redial = time.Now().Add(time.Second)
			for _, c := range peers {
				addPeer(tt, c)
			}
		}
		return false
	})
}

func newStore(t testing.TB, db *catalog.DB) *Store {
	t.Helper()
	s, err := New(Options{DB: db, Logger: testLogger(t), CommitInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runStore runs s until the test ends.
func runStore(t testing.TB, s *Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("store Run did not stop")
		}
	})
}

// checkCatalogAgainstDisk asserts that every piece the catalog records
// complete hashes correctly from dataDir, and returns how many there are.
func checkCatalogAgainstDisk(t testing.TB, db *catalog.DB, f *fixture, dataDir string) int {
	t.Helper()
	ps, err := db.LoadPieces(context.Background(), f.cat.ID, f.info.NumPieces())
	if err != nil {
		t.Fatal(err)
	}
	data := readAll(t, f, dataDir)
	n := 0
	for i := 0; i < f.info.NumPieces(); i++ {
		if !ps.Known.Get(i) || !ps.Complete.Get(i) {
			continue
		}
		n++
		p := f.info.Piece(i)
		sum := sha1.Sum(data[p.Offset() : p.Offset()+p.Length()])
		if !bytes.Equal(sum[:], p.V1Hash().Unwrap().Bytes()) {
			t.Errorf("piece %d recorded complete but its data on disk does not hash", i)
		}
	}
	return n
}

// readAll concatenates the torrent's files under dataDir (missing = empty).
func readAll(t testing.TB, f *fixture, dataDir string) []byte {
	t.Helper()
	var all []byte
	for _, fe := range f.fs {
		b, _ := os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(fe.Path)))
		b = append(b, make([]byte, max(0, int(fe.Length)-len(b)))...)
		all = append(all, b[:fe.Length]...)
	}
	return all
}

func sameFiles(t testing.TB, f *fixture, dataDir string) {
	t.Helper()
	for _, fe := range f.fs {
		want, err := os.ReadFile(filepath.Join(f.src, f.info.Name, filepath.FromSlash(fe.Path)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(fe.Path)))
		if err != nil {
			t.Fatalf("downloaded file %s: %v", fe.Path, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("downloaded file %s differs from the original", fe.Path)
		}
	}
}

// copyTree copies f's original files into dst (the store's data dir).
func copyTree(t testing.TB, f *fixture, dst string) {
	t.Helper()
	for _, fe := range f.fs {
		b, err := os.ReadFile(filepath.Join(f.src, f.info.Name, filepath.FromSlash(fe.Path)))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, filepath.FromSlash(fe.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// corruptPiece flips the first byte of piece p in dataDir.
func corruptPiece(t testing.TB, f *fixture, dataDir string, p int) {
	t.Helper()
	off := f.info.Piece(p).Offset()
	for _, fe := range f.fs {
		if off >= fe.Offset && off < fe.Offset+fe.Length {
			fh, err := os.OpenFile(filepath.Join(dataDir, filepath.FromSlash(fe.Path)), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			b := make([]byte, 1)
			if _, err := fh.ReadAt(b, off-fe.Offset); err != nil {
				t.Fatal(err)
			}
			b[0] ^= 0xff
			if _, err := fh.WriteAt(b, off-fe.Offset); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("piece %d not in any file", p)
}

func loadPieces(t testing.TB, db *catalog.DB, f *fixture) catalog.PieceStates {
	t.Helper()
	ps, err := db.LoadPieces(context.Background(), f.cat.ID, f.info.NumPieces())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func nullHash() g.Option[[]byte] { return g.None[[]byte]() }

// addToEngine registers f with s and adds it to a new engine client on s
// (closed when the test ends); it returns the client and the torrent.
func addToEngine(t testing.TB, s *Store, f *fixture) (*torrent.Client, *torrent.Torrent) {
	t.Helper()
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, s.ClientImpl())
	tt, err := cl.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	clientOf.Store(tt, cl)
	t.Cleanup(func() { clientOf.Delete(tt) })
	return cl, tt
}

// clientOf maps a torrent added by addToEngine to its client, for the
// status a failed wait logs.
var clientOf sync.Map

// logEngines logs the engine's own status (every connection: requests,
// interested and choked both ways, pieces) of tt's client, when known,
// and of the peers: what a wait that timed out was waiting on.
func logEngines(t testing.TB, tt *torrent.Torrent, peers []*torrent.Client) {
	t.Helper()
	if v, ok := clientOf.Load(tt); ok {
		var sb strings.Builder
		v.(*torrent.Client).WriteStatus(&sb)
		t.Logf("engine of %s:\n%s", tt.Name(), sb.String())
	}
	for _, p := range peers {
		var sb strings.Builder
		p.WriteStatus(&sb)
		t.Logf("peer engine %d:\n%s", p.LocalPort(), sb.String())
	}
}

// inPlace makes a torrent named name whose data is in place at dl,
// registered with a running store whose engine holds it complete (every
// file read), every completion committed.
func inPlace(t testing.TB, name string) (*catalog.DB, *fixture, string, *Store, *torrent.Torrent) {
	t.Helper()
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, name, multiFileSizes, dl)
	copyTree(t, f, dl)
	s := newStore(t, db)
	runStore(t, s)
	_, tt := addToEngine(t, s, f)
	waitComplete(t, tt, 30*time.Second)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, f, dl, s, tt
}
