package verify

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childScrub())
	}
	pgtest.Main(m)
}

// fixture is a torrent in the catalog with real files on disk.
type fixture struct {
	T     catalog.Torrent
	Dir   string
	Files []catalog.File
}

// addTorrent writes random files of sizes into root/name and adds the
// torrent (hashed by the torrent library) to collection "c".
func addTorrent(t *testing.T, db *catalog.DB, root, name string, pieceLen int64, sizes ...int64) fixture {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(root, name)
	rng := rand.New(rand.NewPCG(uint64(len(name)), uint64(pieceLen)))
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		p := filepath.Join(dir, "sub", string(rune('a'+i))+".dat")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := metainfo.Info{PieceLength: pieceLen}
	if err := info.BuildFromFilePath(dir); err != nil {
		t.Fatal(err)
	}
	ib, err := bencode.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	mi := metainfo.MetaInfo{InfoBytes: ib}
	mb, err := bencode.Marshal(mi)
	if err != nil {
		t.Fatal(err)
	}
	var files []catalog.File
	var off int64
	for i, f := range info.UpvertedFiles() {
		files = append(files, catalog.File{Index: i, Path: strings.Join(f.Path, "/"), Length: f.Length, Offset: off})
		off += f.Length
	}
	if _, err := db.Collection(ctx, "c"); err != nil {
		if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	tor, err := db.AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: mi.HashInfoBytes(), Name: name, Metainfo: mb,
		PieceLength: pieceLen, PieceCount: info.NumPieces(), TotalLength: info.TotalLength(), DataDir: dir, Files: files,
		Verified: true}) // just hashed: recorded complete, as `archivd add DIR` does
	if err != nil {
		t.Fatal(err)
	}
	return fixture{T: tor, Dir: dir, Files: files}
}

// flip xors one byte at torrent offset off.
func (f fixture) flip(t *testing.T, off int64) {
	t.Helper()
	for _, fl := range f.Files {
		if off >= fl.Offset && off < fl.Offset+fl.Length {
			p := filepath.Join(f.Dir, fl.Path)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[off-fl.Offset] ^= 0xff
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("offset %d outside torrent", off)
}

func (f fixture) path(i int) string { return filepath.Join(f.Dir, f.Files[i].Path) }

func testConfig(t *testing.T) Config {
	return Config{NodeID: "test", Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)}
}

// recordingRepairer stands in for the seeder: it records MarkBad calls.
type recordingRepairer struct {
	calls chan markBad
	fix   func(torrentID int64, pieces []int) error
}

type markBad struct {
	torrent int64
	pieces  []int
}

// Recheck of the recording repairer has no engine: verification records
// intact pieces itself.
func (r *recordingRepairer) Recheck(context.Context, int64, []int) (bool, error) { return false, nil }

func (r *recordingRepairer) MarkBad(_ context.Context, id int64, pieces []int) error {
	r.calls <- markBad{id, pieces}
	if r.fix != nil {
		return r.fix(id, pieces)
	}
	return nil
}
