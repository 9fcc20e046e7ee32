package fleet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A node removes its replicas marked for removal: the files of one the
// planner placed are deleted; those of one added on the node itself, or of
// one sharing its data directory with another replica, are kept and the
// log says so; every marked row goes, the unmarked one stays.
func TestRemoveMarkedDeletesOnlyPlacedFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartNode(ctx, "n", "h"); err != nil {
		t.Fatal(err)
	}
	n := db.ForNode("n")
	root := t.TempDir()
	add := func(b byte, dir, placedBy string, mark bool) int64 {
		t.Helper()
		var ih [20]byte
		ih[0] = b
		name := "t" + string(rune('a'+b))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "x"), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
		tor, err := n.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: ih, Name: name, Metainfo: []byte("d4:infod...e"),
			PieceLength: 1 << 18, PieceCount: 1, TotalLength: 4, DataDir: dir, Files: []catalog.File{{Index: 0, Path: "x", Length: 4}}})
		if err != nil {
			t.Fatal(err)
		}
		pgtest.Exec(t, db, `UPDATE replicas SET placed_by = $2 WHERE torrent_id = $1`, tor.ID, placedBy)
		if mark {
			pgtest.Exec(t, db, `UPDATE replicas SET remove_at = now(), remove_reason = 'test' WHERE torrent_id = $1`, tor.ID)
		}
		return tor.ID
	}
	placed, own, shared := filepath.Join(root, "placed"), filepath.Join(root, "own"), filepath.Join(root, "shared")
	add(1, placed, "p", true)
	add(2, own, "", true)
	add(3, shared, "p", true)
	other := add(4, shared, "p", false)
	var log bytes.Buffer
	p := &Planner{DB: n, Node: "n", Log: zerolog.New(&log)}
	if err := p.removeMarked(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(placed); !os.IsNotExist(err) {
		t.Fatalf("placed replica's directory: %v, want it deleted", err)
	}
	for _, d := range []string{own, shared} {
		if _, err := os.Stat(filepath.Join(d, "x")); err != nil {
			t.Fatalf("%s: %v, want its file kept", d, err)
		}
	}
	for _, want := range []string{"was not placed by the planner: its files are kept", "shares its data directory with another replica"} {
		if !strings.Contains(log.String(), want) {
			t.Fatalf("log does not say %q:\n%s", want, log.String())
		}
	}
	if ids := pgtest.Ints(t, db, `SELECT torrent_id FROM replicas`); len(ids) != 1 || ids[0] != other {
		t.Fatalf("replicas left: %v, want only %d", ids, other)
	}
}

// With norebalance set a leader's pass still places a torrent under its
// replicas_min but marks no surplus copy; once unset, the surplus goes.
func TestNoRebalanceHoldsTrimNotRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2, ReplicasMax: 2}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := db.StartNode(ctx, id, "h"); err != nil {
			t.Fatal(err)
		}
		if err := db.HeartbeatNode(ctx, id, catalog.NodeInfo{Zone: "z-" + id}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetNodeDataRoots(ctx, id, []catalog.NodeDataRoot{{Path: "/srv/" + id, Device: id, CapacityBytes: 1 << 40, FreeBytes: 1 << 40}}); err != nil {
			t.Fatal(err)
		}
	}
	a := db.ForNode("a")
	var ids []int64
	for i := range 2 {
		var ih [20]byte
		ih[0] = byte(i + 1)
		tor, err := a.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: ih, Name: "t" + string(rune('a'+i)), Metainfo: []byte("d4:infod...e"),
			PieceLength: 1 << 18, PieceCount: 4, TotalLength: 1 << 20, DataDir: "/srv/a/t", Files: []catalog.File{{Index: 0, Path: "x", Length: 1 << 20}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tor.ID)
	}
	// ids[0]: complete on a, b and c (one above its max); ids[1]: on a only.
	for _, node := range []string{"b", "c"} {
		pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by) VALUES ($1, $2, '/srv/x', 'a')`, ids[0], node)
	}
	for _, node := range []string{"a", "b", "c"} {
		ups := []catalog.PieceUpdate{{Piece: 0, Complete: true}, {Piece: 1, Complete: true}, {Piece: 2, Complete: true}, {Piece: 3, Complete: true}}
		if err := db.ForNode(node).StorePieces(ctx, map[int64][]catalog.PieceUpdate{ids[0]: ups}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SetFleetFlag(ctx, catalog.FlagNoRebalance, "t", "test"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	p := &Planner{DB: a, Node: "a", Log: zerolog.New(&log), Policy: func() Policy { return Policy{} },
		DirsFor: func(_ context.Context, ts []catalog.Torrent) ([]string, error) {
			dirs := make([]string, len(ts))
			for i := range ts {
				dirs[i] = "/srv/a/placed"
			}
			return dirs, nil
		}}
	count := func(sql string, args ...any) int64 { t.Helper(); return pgtest.Int(t, db, sql, args...) }
	for range 2 {
		if err := p.Pass(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(`SELECT count(*) FROM replicas WHERE torrent_id = $1`, ids[1]); n != 2 {
		t.Fatalf("torrent under its min on %d nodes with norebalance set, want 2 (recovery goes on)", n)
	}
	if n := count(`SELECT count(*) FROM replicas WHERE remove_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d replicas marked for removal with norebalance set", n)
	}
	if _, err := db.UnsetFleetFlag(ctx, catalog.FlagNoRebalance); err != nil {
		t.Fatal(err)
	}
	if err := p.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM replicas WHERE torrent_id = $1 AND remove_at IS NOT NULL`, ids[0]); n != 1 {
		t.Fatalf("%d of the surplus torrent's copies marked once norebalance is unset, want 1", n)
	}
}
