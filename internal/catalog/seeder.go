package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// StartNode records that node id starts: it creates the row if needed,
// clears clean_stop and returns whether the previous stop was clean (a
// node never seen before counts as clean: it has nothing in flight).
func (db *DB) StartNode(ctx context.Context, id, hostname string) (lastStopClean bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT clean_stop FROM nodes WHERE id = $1 FOR UPDATE`, id).Scan(&lastStopClean)
		if errors.Is(err, pgx.ErrNoRows) {
			lastStopClean = true
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO nodes (id, hostname, started_at, last_seen_at, clean_stop)
			VALUES ($1, $2, now(), now(), false)
			ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, started_at = now(),
				last_seen_at = now(), clean_stop = false`, id, hostname)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("catalog: record start of node %q: %w", id, err)
	}
	return lastStopClean, nil
}

// StopNode records a clean stop of node id: everything it had in flight
// has been made durable.
func (db *DB) StopNode(ctx context.Context, id string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE nodes SET clean_stop = true, stopped_at = now(), last_seen_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("catalog: record clean stop of node %q: %w", id, err)
	}
	return nil
}

// TouchNode refreshes last_seen_at of a running node.
func (db *DB) TouchNode(ctx context.Context, id string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE nodes SET last_seen_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("catalog: touch node %q: %w", id, err)
	}
	return nil
}

// NodeCleanStop reports the clean_stop flag of node id.
func (db *DB) NodeCleanStop(ctx context.Context, id string) (bool, error) {
	var clean bool
	err := db.Pool.QueryRow(ctx, `SELECT clean_stop FROM nodes WHERE id = $1`, id).Scan(&clean)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("catalog: node %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("catalog: read node %q: %w", id, err)
	}
	return clean, nil
}

// AddTorrentEvent records an event about a torrent (torrentID 0: none).
func (db *DB) AddTorrentEvent(ctx context.Context, torrentID int64, kind, message string, data any) error {
	if data == nil {
		data = map[string]any{}
	}
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("catalog: encode event %s: %w", kind, err)
	}
	var tid *int64
	if torrentID != 0 {
		tid = &torrentID
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO events (torrent_id, collection_id, kind, message, data)
		VALUES ($1, (SELECT collection_id FROM torrents WHERE id = $1), $2, $3, $4)`, tid, kind, message, js); err != nil {
		return fmt.Errorf("catalog: record event %s: %w", kind, err)
	}
	return nil
}

// FilesOf returns the files of several torrents in one query, in index order.
func (db *DB) FilesOf(ctx context.Context, ids []int64) (map[int64][]File, error) {
	rows, err := db.Pool.Query(ctx, `SELECT torrent_id, idx, path, length, "offset" FROM torrent_files
		WHERE torrent_id = ANY($1) ORDER BY torrent_id, idx`, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: list files of %d torrents: %w", len(ids), err)
	}
	defer rows.Close()
	out := make(map[int64][]File, len(ids))
	for rows.Next() {
		var id int64
		var f File
		if err := rows.Scan(&id, &f.Index, &f.Path, &f.Length, &f.Offset); err != nil {
			return nil, fmt.Errorf("catalog: list files of %d torrents: %w", len(ids), err)
		}
		out[id] = append(out[id], f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list files of %d torrents: %w", len(ids), err)
	}
	return out, nil
}

// Transfer is a delta of a torrent's transfer totals.
type Transfer struct {
	TorrentID int64
	Up, Down  int64
}

// AddTransfers adds several torrents' transfer deltas in one statement.
func (db *DB) AddTransfers(ctx context.Context, ts []Transfer) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]int64, len(ts))
	ups := make([]int64, len(ts))
	downs := make([]int64, len(ts))
	for i, t := range ts {
		ids[i], ups[i], downs[i] = t.TorrentID, t.Up, t.Down
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE torrents t SET uploaded_bytes = t.uploaded_bytes + d.up,
		downloaded_bytes = t.downloaded_bytes + d.down
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS d(id, up, down) WHERE t.id = d.id`,
		ids, ups, downs); err != nil {
		return fmt.Errorf("catalog: add transfer totals of %d torrents: %w", len(ts), err)
	}
	return nil
}
