package verify

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestCollectionIntervalOverrideDecidesWhatIsDue: both torrents were last
// verified two days ago; with the default 30-day interval nothing is due,
// but the collection whose policy says 24h is.
func TestCollectionIntervalOverrideDecidesWhatIsDue(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	root := t.TempDir()
	slow := addTorrent(t, db, root, "slow", 16<<10, 40_000) // collection "c": default interval
	pol, _ := json.Marshal(map[string]string{"interval": "24h"})
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "hot", VerifyPolicy: pol}); err != nil {
		t.Fatal(err)
	}
	hot := addTorrent(t, db, root, "hot", 16<<10, 40_000)
	pgtest.Exec(t, db, `UPDATE torrents SET collection_id = (SELECT id FROM collections WHERE name = 'hot') WHERE id = $1`, hot.T.ID)
	cfg := testConfig(t)
	cfg.Interval = 720 * time.Hour
	e, err := newEngine(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range []fixture{slow, hot} {
		if err := db.EnsureVerifyRanges(ctx, fx.T.ID, fx.T.PieceCount, 1000); err != nil {
			t.Fatal(err)
		}
	}
	pgtest.Exec(t, db, `UPDATE verify_ranges SET last_verified_at = now() - interval '48 hours', last_result = 'ok'`)
	runID, err := db.CreateVerifyRun(ctx, "scheduled", []byte(`{}`), "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.VerifyRunByID(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.plan(ctx, run); err != nil {
		t.Fatal(err)
	}
	ids := pgtest.Ints(t, db, `SELECT DISTINCT torrent_id FROM verify_jobs WHERE run_id = $1`, runID)
	if len(ids) != 1 || ids[0] != hot.T.ID {
		t.Fatalf("planned torrents %v, want only %d (collection with a 24h interval)", ids, hot.T.ID)
	}
}
