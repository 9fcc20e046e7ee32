package fleet

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// A node joins a fleet of three (a, b in z1; c in z2) holding 6 torrents
// of 1 MiB at 2 copies, all on c: the exact moves, throttled to 2 in
// flight per node; a move finishes (the source's copy marked) only once
// the target's copy is complete; moves to a node that goes down are
// abandoned (its copies marked, the sources' kept); norebalance holds new
// moves.
func TestRebalanceMovesToAJoiningNode(t *testing.T) {
	t.Parallel()
	s := newSim(t, Policy{MaxRecoveriesPerNode: 2}, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2})
	const tb = 1 << 40
	s.join("a", "z1", tb)
	s.join("b", "z1", tb)
	s.join("c", "z2", tb)
	var ids []int64
	for i := range 6 {
		id := s.add("c", "c", 4)
		ids = append(ids, id)
		other := []string{"a", "b"}[i%2]
		s.exec(`INSERT INTO replicas (torrent_id, node_id, data_dir) VALUES ($1, $2, '/srv/x')`, id, other)
		s.complete(other, id)
	}
	want := func(step, w string) {
		t.Helper()
		w = strings.NewReplacer("T1", fmt.Sprint(ids[0]), "T2", fmt.Sprint(ids[1]), "T3", fmt.Sprint(ids[2]),
			"T4", fmt.Sprint(ids[3]), "T5", fmt.Sprint(ids[4]), "T6", fmt.Sprint(ids[5])).Replace(w)
		if got := s.replicas(); sorted(got) != sorted(w) {
			t.Fatalf("%s:\n got %s\nwant %s", step, got, w)
		}
	}
	base := "T1:a+ T1:c+ T2:b+ T2:c+ T3:a+ T3:c+ T4:b+ T4:c+ T5:a+ T5:c+ T6:b+ T6:c+"
	s.pass()
	want("a and b under their share (4 MiB), c over: but a move from c (z2) to z1 would leave a torrent in one zone", base)
	// d joins in z2: shares 3 MiB each; c (6) gives to d (0), same zone.
	s.join("d", "z2", tb)
	s.pass()
	want("d joined: two moves from c (the limit)", base+" T1:d<c T2:d<c")
	s.pass()
	want("nothing complete: nothing more", base+" T1:d<c T2:d<c")
	s.complete("d", ids[0])
	s.pass()
	want("T1 complete on d: c's copy marked, a third move",
		"T1:a+ T1:c+* T1:d+ T2:b+ T2:c+ T2:d<c T3:a+ T3:c+ T3:d<c T4:b+ T4:c+ T5:a+ T5:c+ T6:b+ T6:c+")
	if r := pgtest.String(t, s.db, `SELECT remove_reason FROM replicas WHERE torrent_id = $1 AND node_id = 'c'`, ids[0]); r != "moved to node d (rebalance)" {
		t.Fatalf("reason %q", r)
	}
	s.nodeStep("c")
	s.stop("d")
	s.pass()
	want("d down: its moves abandoned, c's copies kept",
		"T1:a+ T1:d+ T2:b+ T2:c+ T2:d* T3:a+ T3:c+ T3:d* T4:b+ T4:c+ T5:a+ T5:c+ T6:b+ T6:c+")
	if r := pgtest.String(t, s.db, `SELECT remove_reason FROM replicas WHERE torrent_id = $1 AND node_id = 'd'`, ids[1]); r != "move abandoned: target node d is down" {
		t.Fatalf("reason %q", r)
	}
	s.join("d", "z2", tb)
	s.nodeStep("d")
	if _, err := s.db.SetFleetFlag(s.ctx, catalog.FlagNoRebalance, "t", "test"); err != nil {
		t.Fatal(err)
	}
	s.pass()
	want("norebalance: no move", "T1:a+ T1:d+ T2:b+ T2:c+ T3:a+ T3:c+ T4:b+ T4:c+ T5:a+ T5:c+ T6:b+ T6:c+")
	if _, err := s.db.UnsetFleetFlag(s.ctx, catalog.FlagNoRebalance); err != nil {
		t.Fatal(err)
	}
	// c holds 5 (share 3, margin 0.3), d 1: two moves again, then done.
	for range 6 {
		s.pass()
		for _, n := range []string{"a", "b", "c", "d"} {
			s.nodeStep(n)
		}
		s.fetch(-1)
	}
	want("settled: a, b, c, d 3 MiB each",
		"T1:a+ T1:d+ T2:b+ T2:d+ T3:a+ T3:d+ T4:b+ T4:c+ T5:a+ T5:c+ T6:b+ T6:c+")
}

func sorted(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}
