package health

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/verify"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mountTmpfs mounts a small tmpfs (a real file system that fills up);
// it skips when this process may not mount.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): DISK_FULL needs a file system to fill", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

func fill(t *testing.T, path string, n int) {
	t.Helper()
	err := os.WriteFile(path, make([]byte, n), 0o644)
	if err != nil && !errors.Is(err, unix.ENOSPC) {
		t.Fatal(err)
	}
}

func TestDiskFullAndLowSpaceRaisedByAFillingFileSystemAndCleared(t *testing.T) {
	t.Parallel()
	root := mountTmpfs(t, "4m")
	data := filepath.Join(root, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	db := pgtest.New(t)
	ev := New(db, nil, Config{DataDir: data})
	ctx := ctxT(t)
	if rep := ev.Evaluate(ctx); rep.Status != OK {
		t.Fatalf("empty tmpfs: %+v", rep)
	}
	big := filepath.Join(data, "big")
	fill(t, big, 4<<20-300<<10) // ~7% left
	rep := ev.Evaluate(ctx)
	c, ok := rep.Raised(DataRootLowSpace)
	if !ok || c.Severity != Warn || rep.Status != Warn || !strings.Contains(strings.Join(c.Detail, ""), data) {
		t.Fatalf("low space: %+v", rep)
	}
	fill(t, filepath.Join(data, "rest"), 1<<20) // up to ENOSPC
	rep = ev.Evaluate(ctx)
	c, ok = rep.Raised(DiskFull)
	if !ok || c.Severity != Err || rep.Status != Err {
		t.Fatalf("full: %+v", rep)
	}
	if _, low := rep.Raised(DataRootLowSpace); low {
		t.Fatalf("a full file system is not also reported low: %+v", rep)
	}
	args := strings.Fields(c.Command)
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tmpfs") {
		t.Fatalf("%q: %v: %s", c.Command, err, out)
	}
	for _, f := range []string{big, filepath.Join(data, "rest")} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if rep := ev.Evaluate(ctx); rep.Status != OK {
		t.Fatalf("space freed: %+v", rep)
	}
}

// takeWholePool has every pool connection of db wait on a table lock
// held outside the pool until release; waiting ends when they are back.
func takeWholePool(t *testing.T, ctx context.Context, db *catalog.DB) (release func(), waiting *sync.WaitGroup) {
	t.Helper()
	release = pgtest.Hold(t, db, `LOCK TABLE nodes IN ACCESS EXCLUSIVE MODE`)
	waiting = &sync.WaitGroup{}
	max := db.PoolStats().Max
	for range max {
		waiting.Go(func() { _ = db.TouchNode(ctx, "pool-holder") })
	}
	testutil.Eventually(t, 30*time.Second, "every pool connection taken", func() bool { return db.PoolStats().Acquired == max })
	return release, waiting
}

func TestCatalogPoolExhaustedIsWarnAndClears(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ev := New(db, nil, roomy(Config{DataDir: t.TempDir()}))
	ctx := ctxT(t)
	release, waiting := takeWholePool(t, ctx, db)
	defer waiting.Wait()
	rep := ev.Evaluate(ctx)
	if c, ok := rep.Raised(CatalogDegraded); !ok || c.Severity != Warn || !strings.Contains(c.Summary, "connections") {
		t.Fatalf("pool exhausted: %+v", rep)
	}
	release()
	waiting.Wait()
	if rep := ev.Evaluate(ctx); rep.Status != OK {
		t.Fatalf("pool free: %+v", rep)
	}
}

// Every connection busy for a moment (a start, a burst) is the pool at
// work, not a degraded catalog: a report right after a start said WARN.
func TestCatalogPoolBusyForAMomentIsNotDegraded(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ev := New(db, nil, roomy(Config{DataDir: t.TempDir()}))
	ev.poolSaturatedFor = 10 * time.Second // the release below comes well within it
	ctx := ctxT(t)
	release, waiting := takeWholePool(t, ctx, db)
	defer waiting.Wait()
	go func() {
		time.Sleep(100 * time.Millisecond)
		release()
	}()
	if rep := ev.Evaluate(ctx); rep.Status != OK {
		t.Fatalf("pool busy for 100 ms: %+v", rep)
	}
}

func TestSeverityJSONRoundTrips(t *testing.T) {
	for _, s := range []Severity{OK, Warn, Err} {
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalJSON(b); err != nil || back != s {
			t.Fatalf("%s -> %s -> %v %v", s, b, back, err)
		}
	}
}

func TestSetConfigTakesEffectOnTheNextEvaluation(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	_, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	var ih [20]byte
	ih[0] = 1
	_, err = db.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: ih, Name: "t", Metainfo: []byte("d4:infode"),
		PieceLength: 1 << 14, PieceCount: 4, TotalLength: 4 << 14, DataDir: t.TempDir(),
		Files: []catalog.File{{Path: "t", Length: 4 << 14}}, Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ev := New(db, nil, roomy(Config{DataDir: dir})) // interval 720h: nothing overdue
	if rep := ev.Evaluate(ctx); rep.Status != OK {
		t.Fatalf("default interval: %+v", rep)
	}
	later := time.Now().Add(time.Hour)
	ev.SetConfig(roomy(Config{DataDir: dir, Verify: verify.Config{Interval: time.Minute}, Now: func() time.Time { return later }}))
	if c, ok := ev.Evaluate(ctx).Raised(PiecesNotVerified); !ok || c.Count != 1 {
		t.Fatalf("interval of a minute an hour later: %+v", c)
	}
}
