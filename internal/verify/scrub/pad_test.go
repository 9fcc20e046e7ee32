package scrub

import (
	"context"
	"crypto/sha1"
	"os"
	"path/filepath"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/catalog"
)

// A torrent whose info has a BEP 47 padding file checks clean whether the
// catalog lists the padding file or leaves it out.
func TestFromTorrentPlacesPaddingFilesFromTheInfo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const pl = 16 << 10
	a := make([]byte, 10_000)
	for i := range a {
		a[i] = byte(i)
	}
	b := []byte("second")
	_ = os.WriteFile(filepath.Join(dir, "a"), a, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "b"), b, 0o644)
	pad := int64(pl - len(a))
	data := append(append(append([]byte{}, a...), make([]byte, pad)...), b...)
	info := metainfo.Info{Name: "t", PieceLength: pl, Files: []metainfo.FileInfo{
		{Path: []string{"a"}, Length: int64(len(a))},
		{Path: []string{".pad", "6384"}, Length: pad, ExtendedFileAttrs: metainfo.ExtendedFileAttrs{Attr: "p"}},
		{Path: []string{"b"}, Length: int64(len(b))},
	}}
	for off := 0; off < len(data); off += pl {
		h := sha1.Sum(data[off:min(off+pl, len(data))])
		info.Pieces = append(info.Pieces, h[:]...)
	}
	ib, _ := bencode.Marshal(info)
	mb, _ := bencode.Marshal(metainfo.MetaInfo{InfoBytes: ib})
	tor := catalog.Torrent{ID: 1, Metainfo: mb, DataDir: dir}
	withPad := []catalog.File{{Path: "a", Length: int64(len(a))}, {Index: 1, Path: ".pad/6384", Length: pad, Offset: int64(len(a))},
		{Index: 2, Path: "b", Length: int64(len(b)), Offset: int64(len(a)) + pad}}
	withoutPad := []catalog.File{withPad[0], {Index: 1, Path: "b", Length: int64(len(b)), Offset: int64(len(a)) + pad}}
	for name, files := range map[string][]catalog.File{"listed": withPad, "left out": withoutPad} {
		tg, err := FromTorrent(tor, files)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err := Scrub(context.Background(), tg, 0, tg.NumPieces(), Options{})
		if err != nil || len(s.Bad) != 0 {
			t.Fatalf("%s: bad %+v, %v", name, s.Bad, err)
		}
	}
}
