package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// aria2Download downloads a .torrent into dir with aria2c (peers from the
// tracker in the torrent) and waits for it to exit after completion.
func aria2Download(t *testing.T, ctx context.Context, torrent, dir string, timeout time.Duration) time.Duration {
	t.Helper()
	return aria2DownloadFrom(t, ctx, torrent, dir, "127.0.0.1", timeout)
}

// aria2DownloadFrom is aria2Download with aria2c bound to the loopback
// address host.
func aria2DownloadFrom(t *testing.T, ctx context.Context, torrent, dir, host string, timeout time.Duration) time.Duration {
	t.Helper()
	bin := need(t, "aria2c", "aria2")
	port := testutil.FreePort(t, host)
	began := time.Now()
	p := startProc(t, ctx, "aria2c", dir, bin,
		"--no-conf", "--dir="+dir, "--seed-time=0", "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true",
		"--listen-port="+fmt.Sprint(port), "--interface="+host, "--file-allocation=none",
		"--bt-hash-check-seed=true", "--check-integrity=true", "--console-log-level=warn",
		"--summary-interval=0", "--bt-tracker-interval=1", "--bt-stop-timeout="+fmt.Sprint(int(timeout.Seconds())),
		torrent)
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("aria2c did not finish within %s: %s", timeout, tail([]byte(p.output()), 2048))
	}
	if p.err != nil {
		t.Fatalf("aria2c failed: %v: %s", p.err, tail([]byte(p.output()), 2048))
	}
	return time.Since(began)
}
