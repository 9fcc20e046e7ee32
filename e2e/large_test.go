package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestLargeTorrentDoesNotHoldBackReadinessOrStop: a torrent of a million
// pieces (20 MB info dict; 5 million are measured in docs/BENCHMARKS.md)
// is added to the engine off the start path. A real archivd serve reports
// READY ("archivd serving") and /readyz ready within seconds, while the
// engine is still taking the torrent in, and a SIGTERM then ends it
// cleanly within seconds. Before, the first reconcile waited for the
// engine's add (linear in the piece count, with the engine's lock held).
func TestLargeTorrentDoesNotHoldBackReadinessOrStop(t *testing.T) {
	t.Parallel()
	in := newInstance(t, "large", "http://127.0.0.1:1/announce", "")
	path := filepath.Join(in.dir, "large.torrent")
	testutil.WriteLargeTorrent(t, path, 1_000_000)
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
