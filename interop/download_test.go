package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArchivdDownloadsFromTransmissionAndRepairs: transmission seeds a
// torrent made by transmission-create; archivd, given only the .torrent
// and an empty collection, downloads it bit-identically, then repairs a
// corrupted piece from transmission.
func TestArchivdDownloadsFromTransmissionAndRepairs(t *testing.T) {
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree2", dataSize(), 2)
	want := withoutEmpty(hashTree(t, src)) // transmission-create leaves zero-byte files out
	tor := filepath.Join(t.TempDir(), "tree2.torrent")
	transmissionCreate(t, ctx, src, tor, 256, tk.URL)
	tk.allow(t, tor)

	tr := startTransmission(t, ctx, seedDir)
	id := tr.add(tor, seedDir)
	tr.waitComplete(id, time.Minute) // its own check of the source data
	tr.waitAnnounced(id, 30*time.Second)

	t.Cleanup(func() {
		if t.Failed() && !tr.proc.exited() {
			t.Logf("transmission swarm: %s", tr.peersJSON(id))
		}
	})
	upBefore := tr.get(id).UploadedEver
	downloadAndRepair(t, ctx, tk, tor, "tree2", want)
	if up := tr.get(id).UploadedEver - upBefore; up < dataSize() {
		t.Fatalf("transmission uploaded %d bytes, want the whole torrent (%d) and the repaired piece", up, dataSize())
	}
}

// TestArchivdDownloadsFromLibtorrentAndRepairs: the same with a libtorrent
// seeder and a torrent made by libtorrent.
func TestArchivdDownloadsFromLibtorrentAndRepairs(t *testing.T) {
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree3", dataSize(), 3)
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "tree3.torrent")
	ltCreate(t, ctx, src, tor, 256<<10, tk.URL)
	tk.allow(t, tor)
	seeder := ltSeed(t, ctx, tor, seedDir, freePort(t))

	downloadAndRepair(t, ctx, tk, tor, "tree3", want)
	if st, _ := ltLast(seeder); st.Uploaded < dataSize() {
		t.Fatalf("libtorrent uploaded %d bytes, want the whole torrent (%d)", st.Uploaded, dataSize())
	}
}

// downloadAndRepair: archivd imports tor into an empty collection and
// downloads it from the swarm (the other client, found via the tracker).
// Then bitrot: one piece of its copy is damaged while it runs, `archivd
// verify --wait` finds it (exit 6: damaged, not yet repaired), the daemon
// hands it to the engine, which fetches it again from the other client,
// and the finding is closed as repaired once the piece hashes good on disk.
func downloadAndRepair(t *testing.T, ctx context.Context, tk *tracker, tor, name string, want map[string]string) {
	t.Helper()
	a := newArchivd(t, ctx, tk.URL)
	a.run("collection", "create", "dl")
	a.run("add", "-c", "dl", tor)
	if s := a.show(name); s.PiecesComplete != 0 {
		t.Fatalf("before serve: %d pieces complete, want 0", s.PiecesComplete)
	}
	began := time.Now()
	a.start()
	s := a.waitComplete(name, 60*time.Second)
	t.Logf("archivd downloaded %d MiB in %s", dataSize()>>20, time.Since(began).Round(time.Millisecond))
	sameTree(t, "archivd", want, s.DataDir)

	piece := a.damagePiece(s)
	if got := hashTree(t, s.DataDir); fmt.Sprint(got) == fmt.Sprint(want) {
		t.Fatal("corruption did not change the data")
	}
	a.runExit(6, "verify", "--wait", "--timeout", "2m", name)
	deadline := time.Now().Add(2 * time.Minute)
	for a.show(name).OpenFindings != 0 || fmt.Sprint(hashTree(t, s.DataDir)) != fmt.Sprint(want) {
		if time.Now().After(deadline) {
			t.Fatalf("piece %d not repaired within 2 minutes", piece)
		}
		time.Sleep(time.Second)
	}
	a.stop()
	sameTree(t, "archivd after repair", want, s.DataDir)
	rep := a.run("report", "latest", "--format", "json")
	if !strings.Contains(rep, `"state": "repaired"`) {
		t.Fatalf("report does not show the finding repaired:\n%s", rep)
	}
	t.Logf("piece %d repaired from the swarm", piece)
}
