package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/storage"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/pgtest"
)

// placeOn makes the fleet planner place f's torrent on node (registered
// up with room), settled at dir, and returns it as node's handle reads it.
// Node "a" starts first: it claims the torrent added by the unbound handle.
func placeOn(t *testing.T, db *catalog.DB, f *fixture, node, dir string) catalog.Torrent {
	t.Helper()
	ctx := context.Background()
	if _, err := db.StartNode(ctx, "a", "h"); err != nil {
		t.Fatal(err)
	}
	two := 2
	if err := db.SetCollectionReplicas(ctx, "test", catalog.ReplicaPolicy{Min: &two, Max: &two}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartNode(ctx, node, "h"); err != nil {
		t.Fatal(err)
	}
	if err := db.HeartbeatNode(ctx, node, catalog.NodeInfo{}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNodeDataRoots(ctx, node, []catalog.NodeDataRoot{{Path: "/srv", Device: "d", CapacityBytes: 1 << 40, FreeBytes: 1 << 40}}); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.LeadPlanner(ctx, node, time.Minute); !ok || err != nil {
		t.Fatalf("lead the planner: %v %v", ok, err)
	}
	ps, err := db.PlanPass(ctx, node, 0, func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
		return fleet.Choose(ns, ts, fleet.Options{})
	})
	if err != nil || len(ps) != 1 || ps[0].Node != node {
		t.Fatalf("placement %v (%v), want on %s", ps, err, node)
	}
	nb := db.ForNode(node)
	if err := nb.SettleReplica(ctx, f.cat.ID, dir); err != nil {
		t.Fatal(err)
	}
	tor, err := nb.TorrentByID(ctx, f.cat.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tor.Placed || tor.DataDir != dir {
		t.Fatalf("node %s reads the torrent placed %v in %q, want placed in %q", node, tor.Placed, tor.DataDir, dir)
	}
	return tor
}

// fleet.recovery_rate: a replica the planner placed is downloaded through
// the store's recovery limiter (its writes wait for it), a torrent added
// otherwise is not. The time asserted is a lower bound the token bucket
// guarantees: a slow machine only makes it longer.
func TestPlacedReplicaWritesWaitForTheRecoveryRate(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	src := filepath.Join(t.TempDir(), "src")
	// 3 MiB: the limiter's burst (1 MiB) goes at once, the rest at the rate.
	f := makeTorrentPL(t, db, "placed", []int{2 << 20, 1 << 20}, src, 256<<10)
	dl := filepath.Join(t.TempDir(), "placed")
	f.cat = placeOn(t, db, f, "b", dl)
	s := newStore(t, db.ForNode("b"))
	const rate = 1 << 20
	s.SetRecoveryRate(rate)
	if got := s.RecoveryRate(); got != rate {
		t.Fatalf("recovery rate %d, want %d", got, rate)
	}
	runStore(t, s)
	seeder := newSeeder(t, f)
	start := time.Now()
	_, tt := addToEngine(t, s, f)
	tt.DownloadAll()
	addPeer(tt, seeder)
	waitComplete(t, tt, 90*time.Second, seeder)
	took := time.Since(start)
	sameFiles(t, f, dl)
	total := f.info.TotalLength()
	if w := s.RecoveryBytesWritten(); w < total {
		t.Fatalf("%d bytes passed the recovery limiter, want at least the torrent's %d", w, total)
	}
	if least := time.Duration(float64(total-recoveryBurst) / rate * float64(time.Second)); took < least-100*time.Millisecond {
		t.Fatalf("placed replica of %d bytes fetched in %v at recovery rate %d B/s, want at least %v", total, took, rate, least)
	}

	// A torrent not placed on the node (added to it) bypasses the limiter.
	other := makeTorrent(t, db.ForNode("b"), "added", []int{256 << 10}, filepath.Join(t.TempDir(), "added"))
	if other.cat.Placed {
		t.Fatal("a torrent added on the node reads as placed")
	}
	before := s.RecoveryBytesWritten()
	oseeder := newSeeder(t, other)
	_, ot := addToEngine(t, s, other)
	ot.DownloadAll()
	addPeer(ot, oseeder)
	waitComplete(t, ot, 60*time.Second, oseeder)
	if w := s.RecoveryBytesWritten(); w != before {
		t.Fatalf("writes of a torrent not placed passed the recovery limiter: %d bytes", w-before)
	}
}

// leech downloads f's torrent from the store's engine client cl into a
// new directory with the library's file storage, the store's client its
// only peer; it returns how long that took.
func leech(t *testing.T, f *fixture, cl *torrent.Client) time.Duration {
	t.Helper()
	lc := newClient(t, storage.NewFileOpts(storage.NewFileClientOpts{ClientBaseDir: t.TempDir(), PieceCompletion: storage.NewMapPieceCompletion()}))
	start := time.Now()
	lt, err := lc.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	lt.DownloadAll()
	addPeer(lt, cl)
	waitComplete(t, lt, 90*time.Second, cl)
	return time.Since(start)
}

// fleet.recovery_send_rate: reads for peers of a torrent another node is
// recovering from this one (SetRecoverySending) wait for the send
// limiter; once it is off the list, they do not. The time asserted is a
// lower bound the token bucket guarantees: a slow machine only makes it
// longer.
func TestReadsOfATorrentRecoveredFromHereWaitForTheSendRate(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "sent")
	// 3 MiB: the limiter's burst (1 MiB) goes at once, the rest at the rate.
	f := makeTorrentPL(t, db, "sent", []int{2 << 20, 1 << 20}, dl, 256<<10)
	copyTree(t, f, dl)
	s := newStore(t, db)
	const rate = 1 << 20
	s.SetRecoverySendRate(rate)
	if got := s.RecoverySendRate(); got != rate {
		t.Fatalf("recovery send rate %d, want %d", got, rate)
	}
	runStore(t, s)
	cl, tt := addToEngine(t, s, f)
	waitComplete(t, tt, 30*time.Second)
	if s.RecoveryBytesSent() != 0 {
		t.Fatalf("hashing the torrent in place passed the send limiter: %d bytes", s.RecoveryBytesSent())
	}
	s.SetRecoverySending([]int64{f.cat.ID})
	took := leech(t, f, cl)
	total := f.info.TotalLength()
	if sent := s.RecoveryBytesSent(); sent < total {
		t.Fatalf("%d bytes passed the send limiter, want at least the torrent's %d", sent, total)
	}
	if least := time.Duration(float64(total-recoveryBurst) / rate * float64(time.Second)); took < least-100*time.Millisecond {
		t.Fatalf("torrent of %d bytes sent in %v at recovery send rate %d B/s, want at least %v", total, took, rate, least)
	}

	// Off the list (the other node's replica complete): reads bypass it.
	s.SetRecoverySending(nil)
	before := s.RecoveryBytesSent()
	leech(t, f, cl)
	if sent := s.RecoveryBytesSent(); sent != before {
		t.Fatalf("reads of a torrent no node recovers passed the send limiter: %d bytes", sent-before)
	}
	// A torrent registered while listed is marked from the start.
	other := makeTorrent(t, db, "later", []int{64 << 10}, filepath.Join(t.TempDir(), "later"))
	s.SetRecoverySending([]int64{f.cat.ID, other.cat.ID})
	if err := s.Register(context.Background(), other.cat, other.fs); err != nil {
		t.Fatal(err)
	}
	if !s.byIDForTest(other.cat.ID).sending.Load() || !s.byIDForTest(f.cat.ID).sending.Load() {
		t.Fatal("torrents listed by SetRecoverySending are not marked sending")
	}
}
