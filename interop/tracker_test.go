package interop

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/archivd/archivd/internal/testutil"
)

// tracker is a running opentracker on 127.0.0.1. Debian builds it in
// whitelist mode: only info hashes in its access list are tracked; the
// list is re-read on SIGHUP.
type tracker struct {
	URL  string
	proc *proc
	list string
	have []string
}

// startTracker runs opentracker (TCP and UDP on one free port).
func startTracker(t *testing.T, ctx context.Context) *tracker {
	t.Helper()
	bin := need(t, "opentracker", "opentracker")
	port := testutil.FreePort(t, "127.0.0.1")
	p := fmt.Sprint(port)
	dir := t.TempDir()
	tr := &tracker{list: filepath.Join(dir, "whitelist")}
	if err := os.WriteFile(tr.list, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// As root opentracker chroots to -d and drops to nobody: the access
	// list is named relative to that directory.
	tr.proc = startProc(t, ctx, "opentracker", dir, bin, "-i", "127.0.0.1", "-p", p, "-P", p, "-d", dir, "-w", "whitelist")
	addr := net.JoinHostPort("127.0.0.1", p)
	waitFor(t, "opentracker listening on "+addr, 10*time.Second, func() (bool, string) {
		if tr.proc.exited() {
			t.Fatalf("opentracker exited: %v: %s", tr.proc.err, tr.proc.output())
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
	tr.URL = "http://" + addr + "/announce"
	return tr
}

// allow adds the info hash of a .torrent file to the access list.
func (tr *tracker) allow(t *testing.T, torrent string) {
	t.Helper()
	mi, err := metainfo.LoadFromFile(torrent)
	if err != nil {
		t.Fatalf("load %s: %v", torrent, err)
	}
	tr.allowHash(t, mi.HashInfoBytes().HexString())
}

func (tr *tracker) allowHash(t *testing.T, infohash string) {
	t.Helper()
	tr.have = append(tr.have, infohash)
	if err := os.WriteFile(tr.list, []byte(strings.Join(tr.have, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tr.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("opentracker: reload access list: %v", err)
	}
	// The list is re-read by a worker thread: wait until announces are
	// taken. (This timed out for TestArchivdSeedsToClients' torrent, whose
	// hash has a 0x20 byte, while TrackerAllows wrote it as "+".)
	ih, err := hex.DecodeString(infohash)
	if err != nil || len(ih) != 20 {
		t.Fatalf("allow %q: not a hex info hash", infohash)
	}
	testutil.Eventually(t, 10*time.Second, "opentracker taking announces of "+infohash, func() bool {
		ok, err := testutil.TrackerAllows(tr.URL, [20]byte(ih))
		if err != nil {
			t.Fatalf("announce to opentracker: %v", err)
		}
		return ok
	})
}
