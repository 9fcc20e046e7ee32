package importer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/torrentfile/seedcorpus"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestImportRefusesV2OnlyButTakesHybrid: a v2-only torrent is refused
// with ErrUnsupported and a one-line reason, and nothing is stored; a
// hybrid of the same files is imported.
func TestImportRefusesV2OnlyButTakesHybrid(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	root := t.TempDir()
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "c", DataRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ImportFile(ctx, db, "", coll, seedcorpus.File(t, "real-lt-v2only"), "cli")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "v2-only") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("v2-only torrent: %v, want a one-line ErrUnsupported", err)
	}
	if ts, err := db.Torrents(ctx, catalog.TorrentFilter{}); err != nil || len(ts) != 0 {
		t.Fatalf("catalog after the refusal: %d torrents, %v", len(ts), err)
	}
	if _, _, err := ImportFile(ctx, db, "", coll, seedcorpus.File(t, "real-lt-hybrid"), "cli"); err != nil {
		t.Fatalf("hybrid torrent refused: %v", err)
	}
}
