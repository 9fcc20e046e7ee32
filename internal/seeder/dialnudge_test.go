package seeder

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// A seeds a torrent and has a download cap; its download limiter is empty
// (as while it downloads something else at the cap) when it learns of
// leecher B. The engine does not dial B then, and B knows no peer: B gets
// the torrent only because the dial nudge has A dial B once the limiter
// refills.
func TestSeedDialsALeecherLearntWhileItsDownloadCapWasSpent(t *testing.T) {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	src := filepath.Join(t.TempDir(), "ds")
	writeData(t, src, 7, map[string]int64{"f.bin": 1 << 20})
	tf := makeTorrent(t, src, 256<<10)
	addTorrent(t, dbA, tf, src, true)
	rowB := addTorrent(t, dbB, tf, filepath.Join(t.TempDir(), "data"), false)

	a := start(t, testConfig(t, "A"), dbA)
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { return a.Status().Seeding == 1 })
	b := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, 30*time.Second, "B's torrent in its engine", func() bool { return len(b.client.Torrents()) == 1 })

	a.SetLimits(Limits{DownloadRate: 128 << 10})
	// Spend the burst (1 MiB) and as much again: empty for ~8 s.
	now := time.Now()
	for range 2 {
		if !a.lim.down.ReserveN(now, 1<<20).OK() {
			t.Fatal("reserve A's download limiter")
		}
	}
	ts := a.client.Torrents()
	if len(ts) != 1 {
		t.Fatalf("A's engine has %d torrents, want 1", len(ts))
	}
	ts[0].AddPeers([]torrent.PeerInfo{{Addr: torrent.StringAddr(b.ListenAddr()), Source: torrent.PeerSourceTracker}})
	if st := ts[0].Stats(); st.PendingPeers != 1 || st.ActivePeers+st.HalfOpenPeers != 0 {
		t.Fatalf("A dialled B with its download limiter empty (pending %d, active %d, half-open %d): the engine changed, the nudge may be moot",
			st.PendingPeers, st.ActivePeers, st.HalfOpenPeers)
	}
	testutil.Eventually(t, 90*time.Second, "B complete from A", func() bool { return completeInCatalog(t, dbB, rowB) == rowB.PieceCount })
}

// TestNudgeSlicesLookAtEveryTorrentOnce: with more torrents than a nudge
// asks at once, consecutive ticks take slices that hold every torrent
// exactly once, each about nudgeBatch torrents.
func TestNudgeSlicesLookAtEveryTorrentOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100_000
	slices := (n + nudgeBatch - 1) / nudgeBatch
	sizes := make([]int, slices)
	for range n {
		var ih metainfo.Hash
		for i := range ih {
			ih[i] = byte(rng.Uint32())
		}
		seen := 0
		for tick := 7; tick < 7+slices; tick++ {
			if inSlice(ih, slices, tick) {
				seen++
				sizes[tick%slices]++
			}
		}
		if seen != 1 {
			t.Fatalf("%x looked at %d times in %d ticks, want once", ih, seen, slices)
		}
	}
	for i, sz := range sizes {
		if sz > nudgeBatch*12/10 {
			t.Errorf("slice %d holds %d torrents, want about %d", i, sz, nudgeBatch)
		}
	}
	if !inSlice(metainfo.Hash{}, 1, 3) || !inSlice(metainfo.Hash{}, 0, 3) {
		t.Error("with one slice every torrent is looked at every tick")
	}
}
