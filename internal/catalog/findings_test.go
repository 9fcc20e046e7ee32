package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// migrateTo moves the catalog's schema to version v.
func migrateTo(t *testing.T, db *catalog.DB, v int32) {
	t.Helper()
	if err := db.MigrateTo(context.Background(), v); err != nil {
		t.Fatal(err)
	}
}

// TestFindingRangesMigrationKeepsEveryFact: a catalog written by the old
// code (one row per piece per run: three runs over pieces 0-4 of one
// torrent, one repaired row, one piece of another cause) migrates to one
// open range per cause with every sighting counted, and nothing repaired
// is lost.
func TestFindingRangesMigrationKeepsEveryFact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	migrateTo(t, db, 5)
	// Rows as the code of version 5 wrote them (today's code writes today's schema).
	coll := pgtest.Int(t, db, `INSERT INTO collections (name) VALUES ('c') RETURNING id`)
	tor := struct{ ID int64 }{pgtest.Int(t, db, `INSERT INTO torrents (collection_id, infohash, name, data_dir, piece_count, piece_length, total_length)
		VALUES ($1, '\x0100000000000000000000000000000000000000', 't', '/data/t', 20, 16384, 327680) RETURNING id`, coll)}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		pgtest.Exec(t, db, q, args...)
	}
	for run := 1; run <= 3; run++ {
		exec(`INSERT INTO verify_runs (kind, state) VALUES ('manual', 'done')`)
		for p := 0; p < 5; p++ {
			exec(`INSERT INTO findings (run_id, torrent_id, piece, kind, state, detected_at) VALUES ($1, $2, $3, 'missing_file', 'held', $4)`,
				run, tor.ID, p, day.AddDate(0, 0, run))
		}
	}
	exec(`INSERT INTO findings (run_id, torrent_id, piece, kind, state, detected_at) VALUES (3, $1, 9, 'hash_mismatch', 'open', $2)`, tor.ID, day)
	exec(`INSERT INTO findings (run_id, torrent_id, piece, kind, state, detected_at, repaired_at, repair_source)
		VALUES (1, $1, 12, 'hash_mismatch', 'repaired', $2, $2, 'peer x')`, tor.ID, day)

	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	fs, err := db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: tor.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Fatalf("%d findings after the migration, want 3: %+v", len(fs), fs)
	}
	held, open, fixed := fs[0], fs[1], fs[2]
	if held.Piece != 0 || held.PieceCount != 5 || held.State != catalog.FindingHeld || held.SeenCount != 3 ||
		held.RunID != 1 || !held.DetectedAt.Equal(day.AddDate(0, 0, 1)) || !held.LastSeenAt.Equal(day.AddDate(0, 0, 3)) {
		t.Errorf("held range %+v, want pieces 0+5 first seen in run 1 on day 1, last on day 3, seen 3 times", held)
	}
	if open.Piece != 9 || open.PieceCount != 1 || open.Kind != catalog.FindingHashMismatch || open.SeenCount != 1 {
		t.Errorf("open finding %+v", open)
	}
	if fixed.Piece != 12 || fixed.State != catalog.FindingRepaired || fixed.RepairSource != "peer x" {
		t.Errorf("repaired finding %+v", fixed)
	}
}

// TestObserveSplitsARangeAndSeesItAgain: a range partly read good is
// split (the good part closed with its source), the bad part is seen
// again, and a new bad piece next to nothing open becomes a new range.
func TestObserveSplitsARangeAndSeesItAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	tor, err := db.AddTorrent(ctx, newTorrent("c", 1, 20))
	if err != nil {
		t.Fatal(err)
	}
	bad := func(ps ...int) []catalog.VerifyFinding {
		var out []catalog.VerifyFinding
		for _, p := range ps {
			out = append(out, catalog.VerifyFinding{Piece: p, Kind: catalog.FindingMissingFile, FileIndex: -1})
		}
		return out
	}
	now := time.Now()
	obs := catalog.FindingObservation{TorrentID: tor.ID, First: 0, Count: 20, Touch: true}
	obs.Bad = bad(2, 3, 4, 5, 6)
	if _, err := db.ObserveFindings(ctx, obs, now); err != nil {
		t.Fatal(err)
	}
	obs.Bad, obs.Sources = bad(2, 3, 5, 6, 15), map[int]string{4: "peer y"}
	closed, err := db.ObserveFindings(ctx, obs, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) != 1 || closed[0].Piece != 4 || closed[0].PieceCount != 1 || closed[0].RepairSource != "peer y" {
		t.Fatalf("closed %+v, want piece 4 by peer y", closed)
	}
	fs, err := db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: tor.ID, States: catalog.OpenFindingStates})
	if err != nil {
		t.Fatal(err)
	}
	type rng struct{ first, n, seen int }
	var got []rng
	for _, f := range fs {
		got = append(got, rng{f.Piece, f.PieceCount, f.SeenCount})
	}
	want := []rng{{2, 2, 2}, {5, 2, 2}, {15, 1, 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("open ranges %+v, want %+v", got, want)
	}
}
