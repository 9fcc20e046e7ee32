package e2e

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/pgtest/rawsql"
	"github.com/archivd/archivd/internal/testutil"
)

// TestDaemonPrunesOldRowsAndKeepsRecentOnes: a real `archivd serve` with a
// one-day retention, on a catalog holding rows two days old (made old by
// SQL: events, runs finished long ago with their jobs, findings repaired
// long ago, peers not seen for long) and recent ones, prunes exactly the
// old ones in its first pass and logs what it deleted.
func TestDaemonPrunesOldRowsAndKeepsRecentOnes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, uint64(time.Now().UnixNano())))
	_, _, url := pgtest.Own(t)
	a := newInstanceOpts(t, "ret", instanceOpts{dbURL: url, extra: `verify:
  schedules: ["0 0 1 1 *"]
  max_run: 1m
retention:
  interval: 1h
  events: 24h
  verify_jobs: 24h
  verify_runs: 2
  findings: 24h
  peers: 24h
`})
	src := makeDataset(t, a.dir, rng)
	a.cli(0, "collection", "create", "science")
	a.cli(0, "add", "-c", "science", src, "--piece-length", "256KiB")
	tor := rawsql.Int(t, url, `SELECT id FROM torrents`)
	now := time.Now()
	old := now.Add(-48 * time.Hour)
	rawsql.Exec(t, url, `INSERT INTO events (at, kind) VALUES ($1, 'old'), ($1, 'old'), ($2, 'new')`, old, now)
	runs := rawsql.Ints(t, url, `SELECT id FROM verify_runs`)
	if len(runs) != 0 {
		t.Fatalf("verify runs before the test made any: %v", runs)
	}
	// Runs 1-4 finished two days ago, run 5 a moment ago; a done job each.
	var ids []int64
	for i := 0; i < 5; i++ {
		at := old
		if i == 4 {
			at = now
		}
		id := rawsql.Int(t, url, `INSERT INTO verify_runs (kind, state, started_at, finished_at) VALUES ('manual', 'done', $1, $1) RETURNING id`, at)
		rawsql.Exec(t, url, `INSERT INTO verify_jobs (run_id, torrent_id, first_piece, piece_count, state) VALUES ($1, $2, 0, 1, 'done')`, id, tor)
		ids = append(ids, id)
	}
	rawsql.Exec(t, url, `INSERT INTO findings (run_id, torrent_id, piece, kind, state, repaired_at)
		VALUES ($1, $2, 1, 'hash_mismatch', 'repaired', $3), ($4, $2, 2, 'io_error', 'repaired', $5)`, ids[2], tor, old, ids[4], now)
	rawsql.Exec(t, url, `INSERT INTO peers (torrent_id, addr, last_seen_at) VALUES ($1, '127.0.0.2:1', $2), ($1, '127.0.0.3:1', $3)`, tor, old, now)

	a.start()
	testutil.Eventually(t, time.Minute, "the retention pass's line", func() bool {
		return countLines(a.log.String(), "catalog retention: old rows deleted") > 0
	})
	for q, want := range map[string]int64{
		`SELECT count(*) FROM events WHERE kind = 'old'`:                              0,
		`SELECT count(*) FROM events WHERE kind = 'new'`:                              1,
		`SELECT count(*) FROM verify_jobs`:                                            1, // run 5's
		`SELECT count(*) FROM findings WHERE repaired_at < now() - '1 day'::interval`: 0,
		`SELECT count(*) FROM findings WHERE state = 'repaired'`:                      1,
		`SELECT count(*) FROM peers WHERE addr = '127.0.0.2:1'`:                       0,
		`SELECT count(*) FROM peers WHERE addr = '127.0.0.3:1'`:                       1,
	} {
		if got := rawsql.Int(t, url, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	left := rawsql.Ints(t, url, `SELECT id FROM verify_runs ORDER BY id`)
	if !slices.Equal(left, ids[3:]) {
		t.Errorf("verify runs left %v, want the newest two %v", left, ids[3:])
	}
	a.stop()
}
