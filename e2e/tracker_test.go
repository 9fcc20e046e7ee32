package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// tracker is opentracker on a loopback port. Debian builds it in whitelist
// mode: allow adds an infohash and tells it to reload (SIGHUP).
type tracker struct {
	t   testing.TB
	url string
	wl  string
	cmd *exec.Cmd
}

func startTracker(t testing.TB) *tracker {
	t.Helper()
	if _, err := exec.LookPath("opentracker"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("opentracker is not installed (apt-get install opentracker)")
		}
		t.Skip("opentracker is not installed (apt-get install opentracker)")
	}
	port := freePort(t)
	dir := t.TempDir()
	tr := &tracker{t: t, wl: filepath.Join(dir, "whitelist")}
	if err := os.WriteFile(tr.wl, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// opentracker chroots to -d before it reads the whitelist.
	tr.cmd = exec.Command("opentracker", "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-P", fmt.Sprint(port), "-d", dir, "-w", "whitelist")
	if err := tr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.cmd.Process.Kill(); _ = tr.cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testutil.Eventually(t, 10*time.Second, "tracker listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	tr.url = "http://" + addr + "/announce"
	return tr
}

func (tr *tracker) allow(infohash string) {
	tr.t.Helper()
	f, err := os.OpenFile(tr.wl, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tr.t.Fatal(err)
	}
	fmt.Fprintln(f, infohash)
	f.Close()
	if err := tr.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		tr.t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}
