package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newTorrent(coll string, b byte, pieces int) catalog.NewTorrent {
	var ih [20]byte
	ih[0] = b
	return catalog.NewTorrent{
		Collection: coll, InfoHash: ih, Name: "t" + string('a'+rune(b)), Metainfo: []byte("d4:infod...e"),
		PieceLength: 1 << 18, PieceCount: pieces, TotalLength: int64(pieces) << 18, DataDir: "/data/" + string('a'+rune(b)),
		Files: []catalog.File{{Index: 0, Path: "x", Length: int64(pieces) << 18}},
	}
}

func TestCollectionLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "maps", Description: "d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "maps"}); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("duplicate collection: got %v, want ErrExists", err)
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: ".."}); !errors.Is(err, catalog.ErrInvalidName) {
		t.Fatalf("collection named '..': got %v, want ErrInvalidName", err)
	}
	if _, err := db.Collection(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unknown collection: got %v", err)
	}
	if _, err := db.AddTorrent(ctx, newTorrent("maps", 1, 3)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCollection(ctx, "maps"); !errors.Is(err, catalog.ErrNotEmpty) {
		t.Fatalf("delete non-empty: got %v", err)
	}
	cs, err := db.Collections(ctx)
	if err != nil || len(cs) != 1 || cs[0].Torrents != 1 || cs[0].TotalBytes != 3<<18 {
		t.Fatalf("collections = %+v, %v", cs, err)
	}
}

func TestAddTorrentRejectsDuplicateInfohashAndUnknownCollection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddTorrent(ctx, newTorrent("c", 2, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddTorrent(ctx, newTorrent("c", 2, 1)); !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("duplicate infohash: got %v", err)
	}
	if _, err := db.AddTorrent(ctx, newTorrent("other", 3, 1)); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unknown collection: got %v", err)
	}
	if n := pgtest.Int(t, db, "SELECT (SELECT count(*) FROM torrents) + (SELECT count(*) FROM torrent_files)"); n != 2 {
		t.Fatalf("rows after failed adds = %d; want 2 (one torrent, one file)", n)
	}
}

func TestPieceStateRoundTripAcrossChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	n := catalog.ChunkPieces*2 + 100
	tor, err := db.AddTorrent(ctx, newTorrent("c", 4, n))
	if err != nil {
		t.Fatal(err)
	}
	ups := []catalog.PieceUpdate{{Piece: 0, Complete: true}, {Piece: 7, Complete: false},
		{Piece: catalog.ChunkPieces + 1, Complete: true}, {Piece: n - 1, Complete: true}}
	if err := db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{tor.ID: ups}); err != nil {
		t.Fatal(err)
	}
	ps, err := db.LoadPieces(ctx, tor.ID, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups {
		if !ps.Known.Get(u.Piece) || ps.Complete.Get(u.Piece) != u.Complete {
			t.Errorf("piece %d: known=%v complete=%v, want known, complete=%v", u.Piece, ps.Known.Get(u.Piece), ps.Complete.Get(u.Piece), u.Complete)
		}
	}
	if got := ps.Known.Count(n); got != len(ups) {
		t.Errorf("%d pieces known, want %d", got, len(ups))
	}
	if err := db.ForgetPieces(ctx, tor.ID, []int{0}); err != nil {
		t.Fatal(err)
	}
	ps, _ = db.LoadPieces(ctx, tor.ID, n)
	if ps.Known.Get(0) {
		t.Error("piece 0 still known after ForgetPieces")
	}
}

func TestVerifiedTorrentRecordsAllPiecesComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	nt := newTorrent("c", 5, catalog.ChunkPieces+3)
	nt.Verified = true
	tor, err := db.AddTorrent(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.CompletedPieces(ctx, tor.ID, nt.PieceCount)
	if err != nil || got != nt.PieceCount {
		t.Fatalf("complete pieces = %d, %v; want %d", got, err, nt.PieceCount)
	}
}

func TestTorrentByRefFindsByNameAndHashPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	tor, err := db.AddTorrent(ctx, newTorrent("c", 6, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{tor.Name, tor.HexHash(), tor.HexHash()[:8]} {
		got, err := db.TorrentByRef(ctx, ref)
		if err != nil || got.ID != tor.ID {
			t.Errorf("TorrentByRef(%q) = %d, %v", ref, got.ID, err)
		}
	}
	if _, err := db.TorrentByRef(ctx, "missing"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("missing ref: %v", err)
	}
}

func TestSchemaCheckRefusesOutdatedSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatalf("fresh schema: %v", err)
	}
	pgtest.Exec(t, db, "UPDATE archivd_schema_version SET version = 0")
	err := db.CheckSchema(ctx)
	if err == nil || !strings.Contains(err.Error(), "run 'archivd migrate'") {
		t.Fatalf("outdated schema: got %v", err)
	}
}
