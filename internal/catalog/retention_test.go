package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

// Each Prune deletes exactly the rows past their retention, in batches
// (batch 1 here: several statements per call), and keeps the rest: recent
// rows, the newest runs, runs an unrepaired finding refers to, running
// runs and their jobs.
func TestPruneDeletesOnlyRowsPastRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	tor, err := addCollectionAndTorrent(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, cut := now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	pgtest.Exec(t, db, `INSERT INTO events (at, kind) VALUES ($1, 'old'), ($1, 'old'), ($2, 'new')`, old, now)
	// Runs 1-4 finished long ago, 5 running; run 2 has an open finding.
	for i := 0; i < 4; i++ {
		pgtest.Exec(t, db, `INSERT INTO verify_runs (kind, state, started_at, finished_at) VALUES ('manual', 'done', $1, $1)`, old)
	}
	pgtest.Exec(t, db, `INSERT INTO verify_runs (kind, state, started_at) VALUES ('manual', 'running', $1)`, now)
	for run := 1; run <= 5; run++ {
		pgtest.Exec(t, db, `INSERT INTO verify_jobs (run_id, torrent_id, first_piece, piece_count, state) VALUES ($1, $2, 0, 1, 'done')`, run, tor)
	}
	pgtest.Exec(t, db, `INSERT INTO findings (run_id, torrent_id, piece, kind) VALUES (2, $1, 0, 'hash_mismatch')`, tor)
	pgtest.Exec(t, db, `INSERT INTO findings (run_id, torrent_id, piece, kind, state, repaired_at)
		VALUES (3, $1, 1, 'hash_mismatch', 'repaired', $2), (3, $1, 2, 'io_error', 'repaired', $3)`, tor, old, now)
	pgtest.Exec(t, db, `INSERT INTO peers (torrent_id, addr, last_seen_at) VALUES ($1, '127.0.0.2:1', $2), ($1, '127.0.0.3:1', $3)`, tor, old, now)

	check := func(what string, got int64, err error, want int64) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s: deleted %d (%v), want %d", what, got, err, want)
		}
	}
	n, err := db.PruneEvents(ctx, cut, 1)
	check("events", n, err, 2)
	n, err = db.PruneVerifyJobs(ctx, cut, 1)
	check("jobs of runs finished before the cut", n, err, 4)
	n, err = db.PruneFindings(ctx, cut, 1)
	check("findings repaired before the cut", n, err, 1)
	// Keep 2 newest (4, 5); 2 stays for its open finding: 1 and 3 go.
	n, err = db.PruneVerifyRuns(ctx, 2, 1)
	check("verify runs", n, err, 2)
	n, err = db.ForgetOldPeers(ctx, cut, 1)
	check("peers", n, err, 1)

	if got := pgtest.Ints(t, db, `SELECT id FROM verify_runs ORDER BY id`); len(got) != 3 || got[0] != 2 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("runs left %v, want [2 4 5]", got)
	}
	for q, want := range map[string]int64{
		`SELECT count(*) FROM events`:                             1,
		`SELECT count(*) FROM verify_jobs WHERE run_id = 5`:       1,
		`SELECT count(*) FROM findings WHERE state <> 'repaired'`: 1,
		`SELECT count(*) FROM findings WHERE state = 'repaired'`:  1,
		`SELECT count(*) FROM peers WHERE addr = '127.0.0.3:1'`:   1,
		`SELECT count(*) FROM findings WHERE run_id IS NULL`:      1, // the recent repaired one lost its run 3
	} {
		if got := pgtest.Int(t, db, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	if _, err := db.PruneEvents(ctx, cut, 0); err == nil {
		t.Error("batch 0 accepted")
	}
}
