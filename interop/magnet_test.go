package interop

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/testutil"
)

// TestMagnetFromTransmission: transmission seeds a torrent (announced to
// opentracker); archivd, given only a magnet link with the tracker, fetches
// the metadata, downloads the data bit-identically and stores the
// metainfo in the catalog.
func TestMagnetFromTransmission(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree6", dataSize(), 6)
	want := withoutEmpty(hashTree(t, src)) // transmission-create leaves zero-byte files out
	tor := filepath.Join(t.TempDir(), "tree6.torrent")
	transmissionCreate(t, ctx, src, tor, 256, tk.URL)
	tk.allow(t, tor)
	tr := startTransmission(t, ctx, seedDir)
	id := tr.add(tor, seedDir)
	tr.waitComplete(id, time.Minute)
	tr.waitAnnounced(id, 30*time.Second)
	magnetFetch(t, ctx, tk, tor, want)
}

// TestMagnetFromLibtorrent: the same with a libtorrent seeder.
func TestMagnetFromLibtorrent(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	tk := startTracker(t, ctx)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree7", dataSize(), 7)
	want := hashTree(t, src)
	tor := filepath.Join(t.TempDir(), "tree7.torrent")
	ltCreate(t, ctx, src, tor, 256<<10, tk.URL)
	tk.allow(t, tor)
	ltSeed(t, ctx, tor, seedDir, testutil.FreePort(t, "127.0.0.1"))
	magnetFetch(t, ctx, tk, tor, want)
}

func magnetFetch(t *testing.T, ctx context.Context, tk *tracker, tor string, want map[string]string) {
	t.Helper()
	mi, err := metainfo.LoadFromFile(tor)
	if err != nil {
		t.Fatal(err)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	hash := mi.HashInfoBytes().HexString()
	magnet := "magnet:?xt=urn:btih:" + hash + "&dn=" + url.QueryEscape(info.Name) + "&tr=" + url.QueryEscape(tk.URL)

	// No tracker in archivd's own configuration: the magnet's is the only
	// way to the seeder.
	a := newArchivd(t, ctx)
	a.run("collection", "create", "mag")
	a.run("add", "-c", "mag", magnet)
	if s := a.show(hash); s.PieceCount != 0 {
		t.Fatalf("before serve: magnet has %d pieces, want no metadata yet", s.PieceCount)
	}
	a.start()
	began := time.Now()
	s := a.waitComplete(hash, 90*time.Second)
	t.Logf("archivd fetched metadata and %d MiB in %s", dataSize()>>20, time.Since(began).Round(time.Millisecond))
	if s.InfoHash != hash || s.PieceCount != info.NumPieces() || s.PieceLength != info.PieceLength {
		t.Fatalf("catalog: infohash %s, %d pieces of %d; want %s, %d of %d", s.InfoHash, s.PieceCount, s.PieceLength,
			hash, info.NumPieces(), info.PieceLength)
	}
	sameTree(t, "archivd", want, s.DataDir)

	row, err := a.catalog().TorrentByRef(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := metainfo.Load(bytes.NewReader(row.Metainfo))
	if err != nil {
		t.Fatalf("stored metainfo does not parse: %v", err)
	}
	if stored.HashInfoBytes().HexString() != hash || !bytes.Equal(stored.InfoBytes, mi.InfoBytes) {
		t.Fatalf("stored metainfo: info hash %s, info equal to the seeder's: %v", stored.HashInfoBytes().HexString(),
			bytes.Equal(stored.InfoBytes, mi.InfoBytes))
	}
}
