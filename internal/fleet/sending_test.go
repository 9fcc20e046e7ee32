package fleet

import (
	"context"
	"fmt"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

// The pass lists the torrents being recovered from its node only while
// fleet.recovery_send_rate is set (Policy.SendLimited): unset, it makes
// no list (the scan of the fleet's placed replicas is skipped), and once
// unset after a list, it hands the seeder an empty one once.
func TestSendingListedOnlyWhileTheSendRateIsSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	a := db.ForNode("a")
	tor, err := a.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: [20]byte{1}, Name: "t", Metainfo: []byte("d4:infod...e"),
		PieceLength: 1 << 18, PieceCount: 4, TotalLength: 1 << 20, DataDir: "/srv/a/t", Files: []catalog.File{{Index: 0, Path: "x", Length: 1 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	// b fetches the replica the planner placed on it: nothing complete yet.
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by) VALUES ($1, 'b', '/srv/b/t', 'a')`, tor.ID)
	pol := Policy{}
	var calls []string
	p := &Planner{DB: a, Node: "a", Log: zerolog.Nop(), Policy: func() Policy { return pol },
		Sending: func(ids []int64) { calls = append(calls, fmt.Sprint(ids)) }}
	step := func(limited bool, want string) {
		t.Helper()
		pol.SendLimited = limited
		calls = nil
		if err := p.listSending(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(calls); got != want {
			t.Fatalf("send limited %v: Sending got %s, want %s", limited, got, want)
		}
	}
	step(false, "[]")
	step(true, fmt.Sprintf("[[%d]]", tor.ID))
	step(true, fmt.Sprintf("[[%d]]", tor.ID))
	step(false, "[[]]")
	step(false, "[]")
}
