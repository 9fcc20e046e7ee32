package verify

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// A run over torrents on two devices reads both at once: the scrub of the
// first device's torrent cannot open its files until the second device's
// scrub has opened one (it would wait 10 s, and fail the test, if the
// devices were read one after the other). Every piece is still hashed once.
func TestRunReadsDevicesInParallel(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	root := t.TempDir()
	const pl = 16 << 10
	a := addTorrent(t, db, filepath.Join(root, "disk1"), "a", pl, 100_000)
	b := addTorrent(t, db, filepath.Join(root, "disk2"), "b", pl, 60_000, 40_000)
	c := addTorrent(t, db, filepath.Join(root, "disk2"), "c", pl, 30_000)
	cfg := testConfig(t)
	cfg.deviceOf = func(p string) (uint64, error) {
		if strings.Contains(p, "/disk2/") {
			return 2, nil
		}
		return 1, nil
	}
	disk2Open := make(chan struct{})
	var once sync.Once
	var waitedOut atomic.Bool
	cfg.Open = func(dir string) (scrub.Opener, error) {
		if strings.Contains(dir, "/disk2/") {
			once.Do(func() { close(disk2Open) })
		} else {
			select {
			case <-disk2Open:
			case <-time.After(10 * time.Second):
				waitedOut.Store(true)
			}
		}
		return scrub.DirOpener(dir)
	}
	runID, err := RunOffline(ctx, db, cfg, Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if waitedOut.Load() {
		t.Fatal("disk1's scrub waited 10 s for disk2's: the devices were read one after the other")
	}
	r, err := db.VerifyRunByID(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, f := range []fixture{a, b, c} {
		want += f.T.TotalLength
		if fs := findingsOf(t, db, runID, f.T.ID); len(fs) != 0 {
			t.Errorf("%s: findings %+v", f.T.Name, fs)
		}
	}
	if r.State != "done" || r.BytesHashed != want {
		t.Fatalf("run %s, %d bytes hashed; want done, %d", r.State, r.BytesHashed, want)
	}
}
