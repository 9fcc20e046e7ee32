package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Placement is where a torrent's data lies, for overlap checks: light
// enough to load for the whole catalog (no metainfo, no files).
type Placement struct {
	ID         int64
	Name       string
	Collection string
	InfoHash   [20]byte
	DataDir    string
	// OwnsDir: every torrent but a single-file one (one file, named like
	// the torrent, in a directory it may share) owns its data directory.
	OwnsDir bool
}

// Placements lists the placement of every torrent not removed: where
// this node keeps it, or where it was added when this node holds no replica.
func (db *DB) Placements(ctx context.Context) ([]Placement, error) {
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.name, c.name, t.infohash, coalesce(r.data_dir, t.data_dir),
		NOT coalesce((SELECT count(*) = 1 AND bool_and(f.path = t.name) FROM torrent_files f WHERE f.torrent_id = t.id), false)
		FROM torrents t JOIN collections c ON c.id = t.collection_id
		LEFT JOIN replicas r ON r.torrent_id = t.id AND r.node_id = $1 WHERE t.state <> 'removed'`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent placements: %w", err)
	}
	ps, err := pgx.CollectRows(rows, scanPlacement)
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent placements: %w", err)
	}
	return ps, nil
}

// PlacementsNear lists the placements (as Placements: where this node
// keeps the torrent, else where it was added) that can overlap something
// at one of paths: those whose data directory is one of paths or lies
// below one, and those whose directory is an ancestor of one and that own
// it, or are single-file torrents whose file (directory/name) is that
// path, an ancestor of it or below it. Not the other single-file torrents
// of an ancestor directory: many may share one. Paths are compared as
// text (byte order) and paths are cleaned; the catalog's are clean
// absolute paths (one written with a final '/' is found too). It reads
// the indexes on data_dir (migration 018), not every torrent: two round
// trips, the first a batch of one equality lookup and one range per path
// (single-table statements, so each is an index scan whatever the planner
// guesses of a parameter), the second the placements by id. It costs
// O(len(paths) + rows read), whatever the catalog's size.
func (db *DB) PlacementsNear(ctx context.Context, paths []string) ([]Placement, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	with := func(set map[string]bool, list *[]string, a string) {
		for _, s := range []string{a, strings.TrimSuffix(a, "/") + "/"} { // "/d/" for "/d"
			if !set[s] {
				set[s] = true
				*list = append(*list, s)
			}
		}
	}
	exact, above, under := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var at, anc, below []string
	for _, p := range paths {
		p = filepath.Clean(p)
		with(exact, &at, p)
		if b := strings.TrimSuffix(p, "/"); !under[b] {
			under[b] = true
			below = append(below, b)
		}
	}
	for _, p := range at {
		for a := filepath.Dir(filepath.Clean(p)); ; a = filepath.Dir(a) {
			if !exact[a] {
				with(above, &anc, a)
			}
			if a == filepath.Dir(a) {
				break
			}
		}
	}
	chain := append(append([]string{}, at...), anc...)
	fail := func(err error) ([]Placement, error) {
		return nil, fmt.Errorf("catalog: list torrent placements near %d paths: %w", len(paths), err)
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM torrents WHERE data_dir COLLATE "C" = ANY($2::text[])
		UNION ALL SELECT torrent_id FROM replicas WHERE node_id = $1 AND data_dir COLLATE "C" = ANY($2::text[])`, db.NodeID(), chain)
	for _, d := range below { // d/... is [d/, d0) in byte order
		b.Queue(`SELECT id FROM torrents WHERE data_dir COLLATE "C" >= $2 AND data_dir COLLATE "C" < $3
			UNION ALL SELECT torrent_id FROM replicas WHERE node_id = $1 AND data_dir COLLATE "C" >= $2 AND data_dir COLLATE "C" < $3`,
			db.NodeID(), d+"/", d+"0")
	}
	res := db.pool.SendBatch(ctx, b)
	var ids []int64
	for range b.Len() {
		rows, _ := res.Query()
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			res.Close()
			return fail(err)
		}
		ids = append(ids, got...)
	}
	if err := res.Close(); err != nil {
		return fail(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// The directory that counts is this node's replica's, else the
	// torrent's: the ids found through the other one are kept only if it
	// matches too.
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.name, c.name, t.infohash, d.dir, o.owns
		FROM torrents t JOIN collections c ON c.id = t.collection_id
		LEFT JOIN replicas r ON r.torrent_id = t.id AND r.node_id = $1
		CROSS JOIN LATERAL (SELECT coalesce(r.data_dir, t.data_dir) COLLATE "C" AS dir) d
		CROSS JOIN LATERAL (SELECT (rtrim(d.dir, '/') || '/' || t.name) COLLATE "C" AS file) f
		CROSS JOIN LATERAL (SELECT NOT coalesce((SELECT count(*) = 1 AND bool_and(tf.path = t.name)
			FROM torrent_files tf WHERE tf.torrent_id = t.id), false) AS owns) o
		WHERE t.id = ANY($6::bigint[]) AND t.state <> 'removed' AND (d.dir = ANY($2::text[])
			OR EXISTS (SELECT 1 FROM unnest($3::text[]) b(dir) WHERE d.dir >= b.dir || '/' AND d.dir < b.dir || '0')
			OR (d.dir = ANY($4::text[]) AND (f.file = ANY($5::text[])
				OR EXISTS (SELECT 1 FROM unnest($3::text[]) b(dir) WHERE f.file >= b.dir || '/' AND f.file < b.dir || '0')
				OR o.owns)))
		ORDER BY t.id`, db.NodeID(), at, below, anc, chain, ids)
	if err != nil {
		return fail(err)
	}
	ps, err := pgx.CollectRows(rows, scanPlacement)
	if err != nil {
		return fail(err)
	}
	return ps, nil
}

// scanPlacement reads a row of id, name, collection, infohash, data_dir,
// owns_dir (Placements, PlacementsNear).
func scanPlacement(r pgx.CollectableRow) (Placement, error) {
	var p Placement
	var ih []byte
	err := r.Scan(&p.ID, &p.Name, &p.Collection, &ih, &p.DataDir, &p.OwnsDir)
	copy(p.InfoHash[:], ih)
	return p, err
}
