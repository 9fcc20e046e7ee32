package testutil

import (
	"path/filepath"
	"testing"

	"github.com/anacrolix/torrent/metainfo"
)

func TestWriteLargeTorrentWritesAValidTorrentOfNPieces(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "large.torrent")
	WriteLargeTorrent(t, path, 1000)
	mi, err := metainfo.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPieces() != 1000 || info.TotalLength() != 1000<<14 || info.Name != "large" {
		t.Fatalf("info: %d pieces, %d bytes, name %q; want 1000, %d, large", info.NumPieces(), info.TotalLength(), info.Name, 1000<<14)
	}
}
