package seeder

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// startTracker runs opentracker on a free loopback port. Debian builds it
// in whitelist mode: only the given infohashes are tracked.
func startTracker(t *testing.T, infohashes ...[20]byte) string {
	t.Helper()
	if _, err := exec.LookPath("opentracker"); err != nil {
		t.Skip("opentracker not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// opentracker chroots to -d before it reads the whitelist: keep both
	// in one directory and name the file relative to it.
	dir := t.TempDir()
	wl := filepath.Join(dir, "whitelist")
	var list string
	for _, ih := range infohashes {
		list += fmt.Sprintf("%x\n", ih)
	}
	if err := os.WriteFile(wl, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("opentracker", "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-P", fmt.Sprint(port), "-d", dir, "-w", "whitelist")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testutil.Eventually(t, 5*time.Second, "tracker listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr + "/announce"
}

// TestConfigTrackerFindsPeer: with no remembered peer, B finds A through
// the extra tracker of the configuration (on loopback) and downloads.
func TestConfigTrackerFindsPeer(t *testing.T) {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", 51)
	tracker := startTracker(t, tf.InfoHash)
	rowA := addTorrent(t, dbA, tf, src, true)
	cfgA, cfgB := testConfig(t, "A"), testConfig(t, "B")
	cfgA.Trackers, cfgB.Trackers = []string{tracker}, []string{tracker}
	a := start(t, cfgA, dbA)
	testutil.Eventually(t, 10*time.Second, "A seeding", inEngine(a, rowA.InfoHash))
	time.Sleep(500 * time.Millisecond) // let A announce first
	dirB := filepath.Join(t.TempDir(), "ds")
	rowB := addTorrent(t, dbB, tf, dirB, false)
	start(t, cfgB, dbB)
	testutil.Eventually(t, 30*time.Second, "B complete", func() bool { return completeInCatalog(t, dbB, rowB) == tf.PieceCount })
	sameFiles(t, tf, src, dirB)
}
