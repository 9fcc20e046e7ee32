package catalog_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// The cost of reading the bytes nodes hold in common, at the catalog
// scale of issue 12: 10 nodes, 100,000 torrents at 3 replicas (torrent i
// on nodes i, i+1, i+2), then 1,000 new torrents on one node, which the
// pass must place (so it reads the pairs); then as much again. Only with
// CATALOG_SCALE=1 (under a minute): it logs the pass's time and EXPLAIN
// ANALYZE of the pairs' read.
func TestPartnersReadAtScale(t *testing.T) {
	if os.Getenv("CATALOG_SCALE") == "" {
		t.Skip("CATALOG_SCALE=1 to run")
	}
	ctx := context.Background()
	db := pgtest.New(t)
	for i := 1; i <= 10; i++ {
		fleetNode(t, db, fmt.Sprintf("node%d", i), fmt.Sprintf("z%d", i%3), 10<<40)
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "fleet", ReplicasMin: 3, ReplicasMax: 3}); err != nil {
		t.Fatal(err)
	}
	const n = 100000
	start := time.Now()
	insert := func(from, to int) {
		pgtest.Exec(t, db, `INSERT INTO torrents (collection_id, infohash, name, data_dir, piece_length, piece_count, total_length, metainfo)
			SELECT (SELECT id FROM collections WHERE name = 'fleet'), decode(lpad(to_hex(i), 40, '0'), 'hex'), 't' || i,
				'/srv/t' || i, 16384, 1, 16384 + i % 1000, '\x00'
			FROM generate_series($1::int, $2::int) i`, from, to)
	}
	insert(1, n)
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, completed_at)
		SELECT t.id, 'node' || ((t.id + k) % 10 + 1), t.data_dir, now() FROM torrents t, generate_series(0, 2) k`)
	insert(n+1, n+1000)
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, completed_at)
		SELECT t.id, 'node10', t.data_dir, now() FROM torrents t WHERE t.id > $1`, n)
	t.Logf("loaded %d replicas in %s", pgtest.Int(t, db, `SELECT count(*) FROM replicas`), time.Since(start).Round(time.Millisecond))
	pgtest.Exec(t, db, `ANALYZE`)
	if ok, err := db.LeadPlanner(ctx, "lead", time.Hour); err != nil || !ok {
		t.Fatalf("lead the planner: %v %v", ok, err)
	}
	pass := func() {
		for range 3 {
			var got []catalog.PlanNode
			var under int
			start := time.Now()
			_, err := db.PlanPass(ctx, "lead", 0, func(ns []catalog.PlanNode, ts []catalog.PlanTorrent) []catalog.PlanPlacement {
				got, under = ns, len(ts)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if under != 1000 || len(got) != 10 || got[0].Partners["node2"] == 0 {
				t.Fatalf("%d torrents under min, nodes %d, node1's partners %v", under, len(got), got[0].Partners)
			}
			t.Logf("pass reading the pairs: %s; node1's partners %v", took.Round(time.Millisecond), got[0].Partners)
		}
	}
	pass()
	pgtest.Exec(t, db, `CREATE FUNCTION explain_partners(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
		DECLARE l text;
		BEGIN
			PERFORM set_config('enable_nestloop', 'off', true);
			FOR l IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS) ' || q LOOP RETURN NEXT l; END LOOP;
		END $f$`)
	explain := func() {
		for range 2 {
			t.Logf("EXPLAIN ANALYZE:\n%s", pgtest.String(t, db, `SELECT string_agg(l, E'\n') FROM explain_partners($1) l`, catalog.PartnersSQL))
		}
	}
	explain()
	// 100,000 more torrents at 3 replicas: 601,000 replicas, more than
	// the benchmark's catalog once it placed 100,000 new torrents.
	insert(n+1001, 2*n+1000)
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, completed_at)
		SELECT t.id, 'node' || ((t.id + k) % 10 + 1), t.data_dir, now() FROM torrents t, generate_series(0, 2) k WHERE t.id > $1`, n+1000)
	pgtest.Exec(t, db, `ANALYZE`)
	t.Logf("%d replicas", pgtest.Int(t, db, `SELECT count(*) FROM replicas`))
	pass()
	explain()
}
