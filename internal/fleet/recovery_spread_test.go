package fleet

import (
	"fmt"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// A node holding 16 torrents of 256 KiB to 2 MiB is lost (stopped, set
// out) with 4 survivors eligible for every one of them (their other copy
// is on a node in maintenance, which takes nothing): one pass of the real
// planner places all 16 recoveries, and the bytes each survivor then has
// to fetch (placed, not complete) differ by at most the largest torrent,
// although s1 has 1,000 times the free space of the others (the choice by
// room alone put everything on s1).
func TestRecoveryBytesSpreadAcrossSurvivors(t *testing.T) {
	t.Parallel()
	s := newSim(t, Policy{}, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2})
	s.join("x", "z", 1<<40)
	s.join("m", "z", 1<<40)
	s.join("s1", "z", 1<<40)
	for _, id := range []string{"s2", "s3", "s4"} {
		s.join(id, "z", 1<<30)
	}
	var largest int64
	for _, pieces := range []int{8, 1, 5, 3, 7, 2, 6, 4, 8, 2, 3, 5, 1, 7, 4, 6} {
		id := s.add("c", "x", pieces)
		s.exec(`INSERT INTO replicas (torrent_id, node_id, data_dir) VALUES ($1, 'm', '/srv/m/t' || $1::bigint)`, id)
		s.complete("m", id)
		largest = max(largest, int64(pieces)*simPiece)
	}
	if _, err := s.db.SetNodeAdmin(s.ctx, "m", catalog.NodeActive, catalog.NodeMaintenance, "t"); err != nil {
		t.Fatal(err)
	}
	// Recovery only: the empty survivors would otherwise take moves.
	if _, err := s.db.SetFleetFlag(s.ctx, catalog.FlagNoRebalance, "t", "test"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	if n := pgtest.Int(t, s.db, `SELECT count(*) FROM replicas WHERE placed_by <> ''`); n != 0 {
		t.Fatalf("%d placed with 2 copies each, want none", n)
	}
	s.stop("x")
	if _, err := s.db.SetNodeOut(s.ctx, "x", true, "t"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	got := pgtest.String(t, s.db, `SELECT string_agg(node_id || ' ' || n || ' ' || b, ', ' ORDER BY node_id) FROM (
		SELECT r.node_id, count(*) AS n, sum(t.total_length) AS b FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		WHERE r.placed_by <> '' AND r.completed_at IS NULL GROUP BY r.node_id) x`)
	t.Logf("placed, not complete (node, torrents, bytes): %s", got)
	if n := pgtest.Int(t, s.db, `SELECT count(*) FROM replicas WHERE placed_by <> ''`); n != 16 {
		t.Fatalf("%d recoveries placed, want 16: %s", n, got)
	}
	// The planner's own view of what each survivor fetches.
	ns, _, err := s.db.BalanceNodes(s.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]int64{}
	for _, n := range ns {
		if n.Target {
			pending[n.ID] = n.PendingBytes
		}
	}
	lo, hi := int64(-1), int64(0)
	for _, b := range pending {
		if lo < 0 || b < lo {
			lo = b
		}
		hi = max(hi, b)
	}
	if len(pending) != 4 || hi-lo > largest {
		t.Fatalf("survivors fetch %v: spread %d, want 4 survivors within the largest torrent (%d)", pending, hi-lo, largest)
	}
	if want := fmt.Sprint(pgtest.Int(t, s.db, `SELECT sum(total_length) FROM torrents`)); fmt.Sprint(pending["s1"]+pending["s2"]+pending["s3"]+pending["s4"]) != want {
		t.Fatalf("survivors fetch %v, want %s in all", pending, want)
	}
}

// The same 16 torrents, their second copies placed by the planner on the
// 4 survivors (equal free space then), fetched; s1 then reports 1,000
// times the free space of the others, and x is lost: each recovery can go
// to 3 survivors (not the one holding its other copy), and the bytes each
// fetches still differ by at most the largest torrent (by room, s1 took
// every recovery it could: 14 of 16).
func TestRecoveryBytesSpreadWhenSurvivorsHoldTheOtherCopies(t *testing.T) {
	t.Parallel()
	s := newSim(t, Policy{}, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2})
	if _, err := s.db.SetFleetFlag(s.ctx, catalog.FlagNoRebalance, "t", "test"); err != nil {
		t.Fatal(err)
	}
	s.join("x", "z", 1<<40)
	survivors := []string{"s1", "s2", "s3", "s4"}
	for _, id := range survivors {
		s.join(id, "z", 1<<30)
	}
	var largest int64
	for _, pieces := range []int{8, 1, 5, 3, 7, 2, 6, 4, 8, 2, 3, 5, 1, 7, 4, 6} {
		s.add("c", "x", pieces)
		largest = max(largest, int64(pieces)*simPiece)
	}
	s.pass()
	for _, id := range survivors {
		s.nodeStep(id)
	}
	s.fetch(-1)
	if n := pgtest.Int(t, s.db, `SELECT count(*) FROM replicas WHERE completed_at IS NOT NULL`); n != 32 {
		t.Fatalf("%d complete copies, want 32: %s", n, s.replicas())
	}
	// s1 gets a far larger disk meanwhile: by room it would take all it can.
	if err := s.db.SetNodeDataRoots(s.ctx, "s1", []catalog.NodeDataRoot{{Path: "/srv/s1", Device: "dev-s1",
		CapacityBytes: 1 << 40, FreeBytes: 1 << 40}}); err != nil {
		t.Fatal(err)
	}
	s.stop("x")
	if _, err := s.db.SetNodeOut(s.ctx, "x", true, "t"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	got := pgtest.String(t, s.db, `SELECT string_agg(node_id || ' ' || n || ' ' || b, ', ' ORDER BY node_id) FROM (
		SELECT r.node_id, count(*) AS n, sum(t.total_length) AS b FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		WHERE r.placed_by <> '' AND r.completed_at IS NULL GROUP BY r.node_id) x`)
	t.Logf("placed, not complete (node, torrents, bytes): %s", got)
	ns, _, err := s.db.BalanceNodes(s.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var total, lo, hi int64 = 0, -1, 0
	for _, n := range ns {
		if !n.Target {
			continue
		}
		total += n.PendingBytes
		if lo < 0 || n.PendingBytes < lo {
			lo = n.PendingBytes
		}
		hi = max(hi, n.PendingBytes)
	}
	if want := pgtest.Int(t, s.db, `SELECT sum(total_length) FROM torrents`); total != want || hi-lo > largest {
		t.Fatalf("survivors fetch %s: %d of %d bytes, spread %d, want all within the largest torrent (%d)", got, total, want, hi-lo, largest)
	}
}
