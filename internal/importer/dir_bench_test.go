package importer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// BenchmarkImportDir1000 imports a torrent_dir of 1,000 one-file torrents
// into a fresh catalog (in-process; the whole-process figure is
// bench/operator's first start via torrent_dir).
func BenchmarkImportDir1000(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	dir := filepath.Join(root, "torrents")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		writeTorrent(b, filepath.Join(root, "src"), dir, fmt.Sprintf("t%04d", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := pgtest.New(b)
		coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", DataRoot: filepath.Join(root, "data"), Source: "config"})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := ImportDir(ctx, db, "", coll, dir, "config")
		if err != nil || len(res.Imported) != 1000 {
			b.Fatalf("imported %d, failed %v: %v", len(res.Imported), res.Failed, err)
		}
	}
}
