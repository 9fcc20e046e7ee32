package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/archivd/archivd/internal/pgtest"
)

// TestOpenTorrentRefusesUnregisteredOrMismatchedInfo: the catalog decides
// where data lives; an info that disagrees with it is refused, not
// written somewhere else.
func TestOpenTorrentRefusesUnregisteredOrMismatchedInfo(t *testing.T) {
	db := pgtest.New(t)
	f := makeTorrent(t, db, "open", []int{30_000, 10_000}, filepath.Join(t.TempDir(), "d"))
	s := newStore(t, db)
	ctx := context.Background()
	if _, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Fatalf("unregistered torrent: got %v", err)
	}
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(ctx, f.cat, nil); err != nil {
		t.Fatalf("registering a registered torrent again: %v", err)
	}
	other := f.info
	other.Files = append([]metainfo.FileInfo(nil), f.info.Files...)
	other.Files[0].Length, other.Files[1].Length = other.Files[1].Length, other.Files[0].Length
	if _, err := s.ClientImpl().OpenTorrent(ctx, &other, f.ih); err == nil || !strings.Contains(err.Error(), "file 0") {
		t.Fatalf("info with other file lengths: got %v", err)
	}
	if _, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih); err != nil {
		t.Fatal(err)
	}
}
