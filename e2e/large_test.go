package e2e

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// writeLargeTorrent writes a valid single-file torrent of n 16 KiB pieces
// with random piece hashes (its data is never read: the import is fresh).
func writeLargeTorrent(t *testing.T, path string, n int) {
	t.Helper()
	pieces := make([]byte, 20*n)
	if _, err := rand.Read(pieces); err != nil {
		t.Fatal(err)
	}
	info, err := bencode.Marshal(metainfo.Info{Name: "large", PieceLength: 16 << 10, Length: int64(n) << 14, Pieces: pieces})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bencode.Marshal(metainfo.MetaInfo{InfoBytes: info})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLargeTorrentDoesNotHoldBackReadinessOrStop: a torrent of a million
// pieces (20 MB info dict; 5 million are measured in docs/BENCHMARKS.md)
// is added to the engine off the start path. A real archivd serve reports
// READY ("archivd serving") and /readyz ready within seconds, while the
// engine is still taking the torrent in, and a SIGTERM then ends it
// cleanly within seconds. Before, the first reconcile waited for the
// engine's add (linear in the piece count, with the engine's lock held).
func TestLargeTorrentDoesNotHoldBackReadinessOrStop(t *testing.T) {
	in := newInstance(t, "large", "http://127.0.0.1:1/announce", "")
	path := filepath.Join(in.dir, "large.torrent")
	writeLargeTorrent(t, path, 1_000_000)
	in.cli(0, "collection", "create", "c", "--data-root", filepath.Join(in.dir, "data"))
	in.cli(0, "add", "-c", "c", path)
	began := time.Now()
	in.start() // waits for "archivd serving"
	serving := time.Since(began)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", in.http))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	added := strings.Contains(in.log.String(), "large torrent added to the engine")
	t.Logf("serving after %v, /readyz %d, large torrent already added: %v", serving, resp.StatusCode, added)
	if serving > 15*time.Second || resp.StatusCode != 200 {
		t.Errorf("serving after %v with /readyz %d: want READY and ready within 15 s", serving, resp.StatusCode)
	}
	stopAt := time.Now()
	if err := in.serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("SIGTERM not honoured within 20 s")
	}
	in.serve = nil
	t.Logf("stopped %v after SIGTERM", time.Since(stopAt))
	if !strings.Contains(in.log.String(), "seeder stopped cleanly") {
		t.Errorf("no clean stop:\n%s", tail(in.log.String(), 10))
	}
}
