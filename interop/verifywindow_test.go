package interop

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestFreshImportNotHeldByOpenVerifyWindow: a torrent imported into an
// empty collection is a download in progress. A verify window that is open
// when the daemon starts must not declare it failed (its data directory
// does not exist yet) and hold it unavailable: once a seeder appears,
// archivd must download it.
//
// With the default schedule (01:00 + 6h) this is what every fresh import
// meets between 01:00 and 07:00; this test opens the window always.
func TestFreshImportNotHeldByOpenVerifyWindow(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree9", dataSize()/4, 9)
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "tree9.torrent")
	ltCreate(t, ctx, src, tor, 256<<10, tk.URL)
	tk.allow(t, tor)

	a := newArchivdWith(t, ctx, verifyNow, tk.URL)
	a.run("collection", "create", "v")
	a.run("add", "-c", "v", tor)
	a.start()
	// No seeder yet: the verify run that starts with the daemon plans and
	// works the torrent.
	db := a.catalog()
	testutil.Eventually(t, time.Minute, "the window's first verify run finished", func() bool {
		runs, err := db.VerifyRuns(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs) == 1 && runs[0].FinishedAt != nil
	})
	if s := a.show("tree9"); s.Availability != "ok" {
		t.Fatalf("fresh import (no data yet, nothing recorded complete) was made %q by the verify run: "+
			"a download in progress is not a missing mount", s.Availability)
	}
	ltSeed(t, ctx, tor, seedDir, testutil.FreePort(t, "127.0.0.1"))
	s := a.waitComplete("tree9", 90*time.Second)
	sameTree(t, "archivd", want, s.DataDir)
}
