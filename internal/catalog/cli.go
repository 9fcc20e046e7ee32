package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Queries of the operator CLI (cmd/archivd).

// DeleteCollectionWithTorrents removes a collection and all its torrents
// from the catalog in one transaction (data on disk is not touched) and
// returns how many torrents were removed.
func (db *DB) DeleteCollectionWithTorrents(ctx context.Context, name string) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM collections WHERE name = $1 FOR UPDATE`, name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("collection %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM torrents WHERE collection_id = $1`, id)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `DELETE FROM collections WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: remove collection %q with its torrents: %w", name, err)
	}
	return n, nil
}

// OpenFindingCount counts a torrent's findings that are not repaired.
func (db *DB) OpenFindingCount(ctx context.Context, torrentID int64) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM findings WHERE torrent_id = $1 AND state <> 'repaired'`, torrentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("catalog: count findings of torrent %d: %w", torrentID, err)
	}
	return n, nil
}

// AdvisoryLock holds a session advisory lock on key until unlock is called:
// the CLI serialises its overlap check and insert against other CLIs.
func (db *DB) AdvisoryLock(ctx context.Context, key int64) (unlock func(), err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: acquire connection for lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("catalog: take advisory lock %d: %w", key, err)
	}
	return func() {
		_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Release()
	}, nil
}

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

// Placements lists the placement of every torrent not removed.
func (db *DB) Placements(ctx context.Context) ([]Placement, error) {
	rows, err := db.Pool.Query(ctx, `SELECT t.id, t.name, c.name, t.infohash, t.data_dir,
		NOT coalesce((SELECT count(*) = 1 AND bool_and(f.path = t.name) FROM torrent_files f WHERE f.torrent_id = t.id), false)
		FROM torrents t JOIN collections c ON c.id = t.collection_id WHERE t.state <> 'removed'`)
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent placements: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Placement, error) {
		var p Placement
		var ih []byte
		err := r.Scan(&p.ID, &p.Name, &p.Collection, &ih, &p.DataDir, &p.OwnsDir)
		copy(p.InfoHash[:], ih)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent placements: %w", err)
	}
	return ps, nil
}
