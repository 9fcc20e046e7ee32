package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestArchivdDownloadsFromTransmissionAndRepairs: transmission seeds a
// torrent made by transmission-create; archivd, given only the .torrent
// and an empty collection, downloads it bit-identically, then repairs a
// corrupted piece from transmission; the finding names transmission.
//
// Transmission 3.00 marks archivd's address as a seed once archivd has
// every piece and refuses it from then on, for as long as that torrent
// runs (TestTransmissionRefusesArchivdOnceBothAreSeeds, docs/INTEROP.md).
// The repair therefore comes from a transmission that has not met the
// complete archivd: the torrent is removed from transmission (data kept)
// before the damage and added again once archivd has handed the bad piece
// to its engine, as a seed that restarted or a new one in a real swarm.
// Without this the repair landed only when verification happened to win a
// ~0.5 s race against transmission dropping archivd (it lost with 512 MiB).
func TestArchivdDownloadsFromTransmissionAndRepairs(t *testing.T) {
	t.Parallel()
	ctx, tk, tor, want, tr, id := transmissionSwarm(t, "tree2", false)
	upBefore := tr.get(id).UploadedEver
	var served int64
	h := repairHooks{
		beforeDamage: func() {
			served = tr.get(id).UploadedEver - upBefore
			tr.removeAndWait(id)
		},
		afterHandOver: func() {
			id = tr.add(tor, tr.downloadDir)
			tr.waitComplete(id, time.Minute)
			tr.waitAnnounced(id, 30*time.Second)
		},
	}
	source := downloadAndRepair(t, ctx, tk, tor, "tree2", want, h)
	if served < dataSize() {
		t.Fatalf("transmission uploaded %d bytes, want the whole torrent (%d)", served, dataSize())
	}
	if up := tr.get(id).UploadedEver; up == 0 {
		t.Fatal("transmission uploaded nothing for the repair")
	}
	if wantSrc := fmt.Sprintf("peer 127.0.0.1:%d (Transmission 3.00)", tr.Port); source != wantSrc {
		t.Fatalf("repair source %q, want %q", source, wantSrc)
	}
}

// TestTransmissionRefusesArchivdOnceBothAreSeeds pins down why repair
// from transmission fails after archivd restarts (docs/INTEROP.md).
// Transmission 3.00 marks a peer's address (the IP alone: on loopback
// every archivd connection maps to one "atom") as a seed when the peer
// reports all pieces, never clears the mark, and while it seeds itself it
// refuses MSE handshakes from that address ("another seed tried to
// reconnect to us!") and closes plaintext ones at its next pulse (both
// seeds). archivd, restarted and then missing a piece, is refused on every
// dial and the piece stays bad. If a transmission version stops doing
// this, the test fails: then repair from transmission after a restart
// should be proven instead.
func TestTransmissionRefusesArchivdOnceBothAreSeeds(t *testing.T) {
	t.Parallel()
	ctx, tk, tor, want, tr, _ := transmissionSwarm(t, "tree9", true)
	a := newArchivd(t, ctx, tk.URL)
	a.run("collection", "create", "dl")
	a.run("add", "-c", "dl", tor)
	a.start()
	s := a.waitComplete("tree9", 60*time.Second)
	sameTree(t, "archivd", want, s.DataDir)
	a.stop()
	a.start()
	a.waitComplete("tree9", 30*time.Second)
	piece := a.damagePiece(s)
	a.runExit(6, "verify", "--wait", "--timeout", "2m", "tree9")
	handed := time.Now().Add(-time.Second) // transmission logs milliseconds, local time
	// anacrolix dials with MSE first, then plaintext: both are turned away.
	waitFor(t, "transmission refusing archivd after the hand-over", 90*time.Second, func() (bool, string) {
		out := tr.proc.output()
		mse, plain := loggedSince(out, "another seed tried to reconnect to us!", handed), loggedSince(out, "removing bad peer", handed)
		return mse && plain, fmt.Sprintf("MSE handshake refused: %v, plaintext peer closed: %v", mse, plain)
	})
	if fmt.Sprint(hashTree(t, s.DataDir)) == fmt.Sprint(want) {
		t.Fatalf("piece %d was repaired: transmission no longer refuses a known seed; prove repair after restart instead", piece)
	}
	a.stop()
}

// loggedSince reports a line of transmission's debug log containing what
// and stamped at or after since.
func loggedSince(log, what string, since time.Time) bool {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, what) || len(line) < 25 || line[0] != '[' {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000", line[1:24], time.Local)
		if err == nil && !at.Before(since) {
			return true
		}
	}
	return false
}

// transmissionSwarm: a tracker and a transmission seeding a torrent made
// by transmission-create, announced (so that archivd learns its address).
func transmissionSwarm(t *testing.T, name string, deepLog bool) (context.Context, *tracker, string, map[string]string, *transmission, int) {
	t.Helper()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, name, dataSize(), 2)
	want := withoutEmpty(hashTree(t, src)) // transmission-create leaves zero-byte files out
	tor := filepath.Join(t.TempDir(), name+".torrent")
	transmissionCreate(t, ctx, src, tor, 256, tk.URL)
	tk.allow(t, tor)
	tr := startTransmissionLog(t, ctx, seedDir, deepLog)
	id := tr.add(tor, seedDir)
	tr.waitComplete(id, time.Minute) // its own check of the source data
	tr.waitAnnounced(id, 30*time.Second)
	t.Cleanup(func() {
		if t.Failed() && !tr.proc.exited() {
			t.Logf("transmission swarm: %s", tr.peersJSON(id))
		}
	})
	return ctx, tk, tor, want, tr, id
}

// TestArchivdDownloadsFromLibtorrentAndRepairs: the same with a libtorrent
// seeder and a torrent made by libtorrent.
func TestArchivdDownloadsFromLibtorrentAndRepairs(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree3", dataSize(), 3)
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "tree3.torrent")
	ltCreate(t, ctx, src, tor, 256<<10, tk.URL)
	tk.allow(t, tor)
	port := testutil.FreePort(t, "127.0.0.1")
	seeder := ltSeed(t, ctx, tor, seedDir, port)

	source := downloadAndRepair(t, ctx, tk, tor, "tree3", want, repairHooks{})
	if st, _ := ltLast(seeder); st.Uploaded < dataSize() {
		t.Fatalf("libtorrent uploaded %d bytes, want the whole torrent (%d)", st.Uploaded, dataSize())
	}
	// The client name comes from libtorrent's extended handshake.
	if prefix := fmt.Sprintf("peer 127.0.0.1:%d (libtorrent", port); !strings.HasPrefix(source, prefix) || !strings.HasSuffix(source, ")") {
		t.Fatalf("repair source %q, want %q...)", source, prefix)
	}
}

// downloadAndRepair: archivd imports tor into an empty collection and
// downloads it from the swarm (the other client, found via the tracker).
// Then bitrot: one piece of its copy is damaged while it runs, `archivd
// verify --wait` finds it (exit 6: damaged, not yet repaired), the daemon
// hands it to the engine, which fetches it again from the other client,
// and the finding is closed as repaired once the piece hashes good on disk.
// It returns the repaired finding's source.
func downloadAndRepair(t *testing.T, ctx context.Context, tk *tracker, tor, name string, want map[string]string, h repairHooks) string {
	t.Helper()
	a := newArchivd(t, ctx, tk.URL)
	a.run("collection", "create", "dl")
	a.run("add", "-c", "dl", tor)
	if s := a.show(name); s.PiecesComplete != 0 {
		t.Fatalf("before serve: %d pieces complete, want 0", s.PiecesComplete)
	}
	began := time.Now()
	a.start()
	s := a.waitComplete(name, 3*time.Minute) // transmission: ~5-10 MiB/s per peer
	t.Logf("archivd downloaded %d MiB in %s", dataSize()>>20, time.Since(began).Round(time.Millisecond))
	sameTree(t, "archivd", want, s.DataDir)
	return a.repairInPlaceWith(name, s, want, h)
}

// repairHooks let a test act on the other peers around a repair (nil: no
// action): beforeDamage runs before the piece is damaged, afterHandOver
// once `archivd verify --wait` has reported it (exit 6) and the daemon
// has handed it to the engine.
type repairHooks struct {
	beforeDamage, afterHandOver func()
}

// repairInPlace damages one piece of a running node's copy, has `archivd
// verify --wait` find it, waits for the daemon to repair it and returns
// the repaired finding's source from the report.
func (a *archivd) repairInPlace(name string, s show, want map[string]string) string {
	a.t.Helper()
	return a.repairInPlaceWith(name, s, want, repairHooks{})
}

func (a *archivd) repairInPlaceWith(name string, s show, want map[string]string, h repairHooks) string {
	t := a.t
	t.Helper()
	if h.beforeDamage != nil {
		h.beforeDamage()
	}
	piece := a.damagePiece(s)
	if got := hashTree(t, s.DataDir); fmt.Sprint(got) == fmt.Sprint(want) {
		t.Fatal("corruption did not change the data")
	}
	a.runExit(6, "verify", "--wait", "--timeout", "2m", name)
	if h.afterHandOver != nil {
		h.afterHandOver()
	}
	testutil.Eventually(t, 2*time.Minute, fmt.Sprintf("piece %d repaired", piece), func() bool {
		return a.show(name).OpenFindings == 0 && fmt.Sprint(hashTree(t, s.DataDir)) == fmt.Sprint(want)
	})
	a.stop()
	sameTree(t, "archivd after repair", want, s.DataDir)
	var rep struct {
		Findings []struct {
			Piece        int    `json:"piece"`
			State        string `json:"state"`
			RepairSource string `json:"repair_source"`
		} `json:"findings"`
	}
	out := a.run("report", "latest", "--format", "json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report json: %v: %s", err, out)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Piece != piece || rep.Findings[0].State != "repaired" {
		t.Fatalf("report does not show piece %d repaired:\n%s", piece, out)
	}
	t.Logf("piece %d repaired, source %q", piece, rep.Findings[0].RepairSource)
	return rep.Findings[0].RepairSource
}
