package store

import (
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"golang.org/x/time/rate"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestSigkillMidDownloadCatalogMatchesDisk kills (SIGKILL) a process
// that downloads into a Store while group commits run, then checks that
// every piece the catalog records complete hashes on disk, and that a new
// process finishes the download without fetching those pieces again.
func TestSigkillMidDownloadCatalogMatchesDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	url := pgtest.URL(t)
	db, err := catalog.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrentPL(t, db, "killed", []int{3 << 20, 1 << 20, 1<<20 + 7}, dl, 64<<10)
	seeder := slowSeeder(t, f, 2<<20)
	n := f.info.NumPieces()

	cmd := exec.Command(os.Args[0], "-test.run=^TestSigkillChild$", "-test.v")
	cmd.Env = append(os.Environ(), "STORE_CHILD_DB="+url, "STORE_CHILD_IH="+hex.EncodeToString(f.ih[:]),
		"STORE_CHILD_PEER="+strconv.Itoa(seeder.LocalPort()))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	testutil.Eventually(t, 60*time.Second, "a third of the pieces committed by the child", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("child exited before it was killed: %v", err)
		default:
		}
		c, err := db.CompletedPieces(context.Background(), f.cat.ID, n)
		return err == nil && c >= n/3
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	committed := checkCatalogAgainstDisk(t, db, f, dl)
	if committed == n {
		t.Fatalf("the child finished before it was killed: slow the seeder down")
	}

	s := newStore(t, db)
	runStore(t, s)
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, s.ClientImpl())
	t.Cleanup(func() {
		if t.Failed() { // a ban of 127.0.0.1 (smart ban ignores Trusted) would stall it for good
			t.Logf("the restarted downloader bans %v", cl.BadPeerIPs())
		}
	})
	tt, err := cl.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	tt.DownloadAll()
	addPeer(tt, seeder)
	// 3 minutes, not 1: once in a full -race run the restarted download
	// (3.3 MB at 2 MiB/s) stalled for over a minute at 1.9 MB; the cause
	// (engine request time-out after the kill?) is not found yet.
	waitComplete(t, tt, 3*time.Minute, seeder)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, f, dl)
	if c := checkCatalogAgainstDisk(t, db, f, dl); c != n {
		t.Fatalf("catalog records %d of %d pieces complete", c, n)
	}
	if max := f.info.TotalLength() - int64(committed-1)*f.info.PieceLength; s.BytesWritten() > max {
		t.Fatalf("restart wrote %d bytes: it fetched again pieces recorded complete (at most %d expected)", s.BytesWritten(), max)
	}
	t.Logf("killed with %d of %d pieces committed; the restart wrote %d bytes", committed, n, s.BytesWritten())
}

// TestSigkillChild is the process killed by the test above.
func TestSigkillChild(t *testing.T) {
	url := os.Getenv("STORE_CHILD_DB")
	if url == "" {
		t.Skip("only run as a child of TestSigkillMidDownloadCatalogMatchesDisk")
	}
	ctx := context.Background()
	db, err := catalog.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	row, err := db.TorrentByRef(ctx, os.Getenv("STORE_CHILD_IH"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := db.Files(ctx, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	go s.Run(ctx) // runs until the parent kills us
	if err := s.Register(ctx, row, files); err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, s.ClientImpl())
	info, err := metainfo.Load(bytesReader(row.Metainfo))
	if err != nil {
		t.Fatal(err)
	}
	tt, err := cl.AddTorrent(info)
	if err != nil {
		t.Fatal(err)
	}
	tt.DownloadAll()
	port, _ := strconv.Atoi(os.Getenv("STORE_CHILD_PEER"))
	peer := []torrent.PeerInfo{{Addr: loopback(port), Trusted: true}}
	tt.AddPeers(peer)
	// The engine forgets a peer whose dial or handshake failed (on a loaded
	// machine under -race a handshake can time out): add it again while
	// there is no connection, as archivd's seeder does. Bounded: the
	// parent kills us long before.
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-deadline:
			t.Fatal("not killed")
		case <-tick.C:
			if len(tt.PeerConns()) == 0 {
				tt.AddPeers(peer)
			}
		}
	}
}

// slowSeeder serves f's data at bytesPerSec.
func slowSeeder(t *testing.T, f *fixture, bytesPerSec int) *torrent.Client {
	t.Helper()
	cfg := clientConfig(t, storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: f.src, PieceCompletion: storage.NewMapPieceCompletion()}))
	cfg.UploadRateLimiter = rate.NewLimiter(rate.Limit(bytesPerSec), 256<<10)
	cl, err := torrent.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	tt, err := cl.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tt, 30*time.Second)
	return cl
}
