package catalog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestAddTorrentsAndLoadPiecesOf: torrents added in bulk carry their
// files and, when Verified, every piece complete; LoadPiecesOf reads the
// states of several torrents (one spanning two chunks, one with nothing
// recorded) exactly as LoadPieces reads each.
func TestAddTorrentsAndLoadPiecesOf(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	big, small, none := newTorrent("c", 1, catalog.ChunkPieces+3), newTorrent("c", 2, 5), newTorrent("c", 3, 7)
	big.Verified, small.Verified = true, true
	if _, err := db.AddTorrents(ctx, []catalog.NewTorrent{big, small, none}); err != nil {
		t.Fatal(err)
	}
	ts, err := db.Torrents(ctx, catalog.TorrentFilter{})
	if err != nil || len(ts) != 3 {
		t.Fatalf("torrents: %d, %v", len(ts), err)
	}
	counts := map[int64]int{}
	for _, tr := range ts {
		counts[tr.ID] = tr.PieceCount
		if fs, err := db.Files(ctx, tr.ID); err != nil || len(fs) != 1 {
			t.Fatalf("files of %s: %+v, %v", tr.Name, fs, err)
		}
	}
	all, err := db.LoadPiecesOf(ctx, counts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		one, err := db.LoadPieces(ctx, tr.ID, tr.PieceCount)
		if err != nil {
			t.Fatal(err)
		}
		got := all[tr.ID]
		if string(got.Known) != string(one.Known) || string(got.Complete) != string(one.Complete) {
			t.Errorf("%s: bulk and single loads differ", tr.Name)
		}
		want := 0
		if tr.Name != "td" {
			want = tr.PieceCount
		}
		if c := got.Complete.Count(tr.PieceCount); c != want {
			t.Errorf("%s: %d pieces complete, want %d", tr.Name, c, want)
		}
	}
}

// TestTorrentFilterUnavailable: the filter the verify service's re-check
// loop lists with (at every change notified) returns only the torrents
// unavailable on this node, not every runnable one.
func TestTorrentFilterUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	var ns []catalog.NewTorrent
	for b := range byte(4) {
		ns = append(ns, newTorrent("c", b, 3))
	}
	if _, err := db.AddTorrents(ctx, ns); err != nil {
		t.Fatal(err)
	}
	ts, err := db.Torrents(ctx, catalog.TorrentFilter{Runnable: true})
	if err != nil || len(ts) != 4 {
		t.Fatalf("runnable: %d, %v", len(ts), err)
	}
	if err := db.SetAvailability(ctx, ts[2].ID, catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: catalog.CauseDataMissing, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Torrents(ctx, catalog.TorrentFilter{Runnable: true, Unavailable: true})
	if err != nil || len(got) != 1 || got[0].ID != ts[2].ID || got[0].Availability != catalog.AvailabilityUnavailable {
		t.Fatalf("unavailable: %+v, %v; want only %s", got, err, ts[2].Name)
	}
}

// TestAddTorrentsAlsoOn: a torrent added in bulk with AlsoOn has a
// replica on the handle's node and on each AlsoOn node, each with every
// piece complete when Verified; one without AlsoOn is on the handle's
// node alone.
func TestAddTorrentsAlsoOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	three, one := newTorrent("c", 1, 5), newTorrent("c", 2, 3)
	three.Verified, one.Verified = true, true
	three.AlsoOn = []string{"b", "c"}
	if _, err := db.ForNode("a").AddTorrents(ctx, []catalog.NewTorrent{three, one}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ReplicaNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		nt    catalog.NewTorrent
		nodes []string
	}{{three, []string{"a", "b", "c"}}, {one, []string{"a"}}} {
		tr, err := db.TorrentByRef(ctx, tc.nt.Name)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got[tr.ID]) != fmt.Sprint(tc.nodes) {
			t.Errorf("%s: replicas on %v, want %v", tr.Name, got[tr.ID], tc.nodes)
		}
		for _, n := range tc.nodes {
			if c, err := db.ForNode(n).CompletedPieces(ctx, tr.ID, tr.PieceCount); err != nil || c != tr.PieceCount {
				t.Errorf("%s on %s: %d of %d pieces complete (%v)", tr.Name, n, c, tr.PieceCount, err)
			}
		}
	}
}
