package testutil

import (
	"crypto/rand"
	"os"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// WriteLargeTorrent writes to path a valid single-file torrent named
// "large" of n 16 KiB pieces with random piece hashes: its data is never
// read (an import of it is fresh), only its size matters.
func WriteLargeTorrent(t testing.TB, path string, n int) {
	t.Helper()
	pieces := make([]byte, 20*n)
	if _, err := rand.Read(pieces); err != nil {
		t.Fatal(err)
	}
	info, err := bencode.Marshal(metainfo.Info{Name: "large", PieceLength: 16 << 10, Length: int64(n) << 14, Pieces: pieces})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bencode.Marshal(metainfo.MetaInfo{InfoBytes: info})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
