package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

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
	if _, err := db.pool.Exec(ctx, `INSERT INTO events (torrent_id, collection_id, kind, message, data)
		VALUES ($1, (SELECT collection_id FROM torrents WHERE id = $1), $2, $3, $4)`, tid, kind, message, js); err != nil {
		return fmt.Errorf("catalog: record event %s: %w", kind, err)
	}
	return nil
}

// AddVerifyEvent writes an events row about a torrent.
func (db *DB) AddVerifyEvent(ctx context.Context, torrentID int64, kind, message string, data []byte) error {
	if data == nil {
		data = []byte(`{}`)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO events (torrent_id, collection_id, kind, message, data)
		SELECT $1, collection_id, $2, $3, $4 FROM torrents WHERE id = $1`, torrentID, kind, message, data); err != nil {
		return fmt.Errorf("catalog: record %s event of torrent %d: %w", kind, torrentID, err)
	}
	return nil
}

// AddCollectionEvent records an event about a collection that concerns no
// torrent (a .torrent file of its torrent_dir that cannot be imported).
func (db *DB) AddCollectionEvent(ctx context.Context, collectionID int64, kind, message string, data any) error {
	js, err := json.Marshal(data)
	if err != nil || data == nil {
		js = []byte(`{}`)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO events (collection_id, kind, message, data) VALUES ($1, $2, $3, $4)`,
		collectionID, kind, message, js); err != nil {
		return fmt.Errorf("catalog: record event %s of collection %d: %w", kind, collectionID, err)
	}
	return nil
}

// Event is one row of a torrent's history.
type Event struct {
	At      time.Time
	Kind    string
	Message string
}

// TorrentEvents returns a torrent's latest events, newest first.
func (db *DB) TorrentEvents(ctx context.Context, torrentID int64, limit int) ([]Event, error) {
	rows, err := db.pool.Query(ctx, `SELECT at, kind, message FROM events WHERE torrent_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
		torrentID, limit)
	if err != nil {
		return nil, fmt.Errorf("catalog: events of torrent %d: %w", torrentID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Event])
	if err != nil {
		return nil, fmt.Errorf("catalog: events of torrent %d: %w", torrentID, err)
	}
	return out, nil
}
