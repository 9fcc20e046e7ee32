package catalog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// A node sends a recovery for a torrent it holds while another node's
// replica of it, placed by the planner, is incomplete and not marked for
// removal; a complete one, an own (added) one, a marked one, or a
// torrent it does not hold is not listed.
func TestRecoveringFromHereListsIncompletePlacedReplicasElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		fleetNode(t, db, fmt.Sprintf("n%d", i), "z", 1<<40)
	}
	n0 := db.ForNode("n0")
	var ids []int64
	for i := range 5 {
		tor, err := n0.AddTorrent(ctx, newTorrent("c", byte(i+1), 4))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tor.ID)
	}
	copyOn(t, db, ids[0], "n1", false) // recovering on n1: listed for n0
	copyOn(t, db, ids[1], "n1", true)  // complete on n1
	copyOn(t, db, ids[2], "n1", false) // marked for removal on n1
	pgtest.Exec(t, db, `UPDATE replicas SET remove_at = now() WHERE torrent_id = $1 AND node_id = 'n1'`, ids[2])
	copyOn(t, db, ids[3], "n1", false) // n2 holds a partial copy too: listed for n0 and n2, not for n1
	copyOn(t, db, ids[3], "n2", true)
	storePieces(t, db.ForNode("n1"), ids[3], 1, true) // 1 of 4 pieces
	// ids[4]: only n0's own replica (added there, not placed).
	for node, want := range map[string]string{"n0": fmt.Sprint([]int64{ids[0], ids[3]}), "n1": "[]", "n2": fmt.Sprint([]int64{ids[3]})} {
		got, err := db.ForNode(node).RecoveringFromHere(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%s sends %v, want %s", node, got, want)
		}
	}
}
