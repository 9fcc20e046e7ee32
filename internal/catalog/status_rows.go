package catalog

// Read-only rows of the status page's torrent list and detail view.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TorrentRow is one torrent of the status page's list: light (no
// metainfo, no files), with its completion, open findings and oldest
// verification.
type TorrentRow struct {
	ID                 int64
	Name               string
	InfoHash           string
	Collection         string
	State              TorrentState
	CollectionState    string
	Availability       string
	AvailabilityReason string
	TotalLength        int64
	PieceCount         int
	PiecesComplete     int64
	OpenFindings       int64
	OldestVerified     *time.Time // nil: never verified
	Uploaded           int64
	AddedAt            time.Time
}

// TorrentRows lists every torrent not removed.
func (db *DB) TorrentRows(ctx context.Context) ([]TorrentRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT t.id, t.name, encode(t.infohash, 'hex'), c.name, t.state, c.state,
		coalesce(rp.availability, 'ok'), coalesce(rp.availability_reason, ''), coalesce(t.total_length, 0), coalesce(t.piece_count, 0),
		coalesce((SELECT sum(bit_count(p.complete)) FROM piece_chunks p WHERE p.torrent_id = t.id AND p.node_id = $1), 0)::bigint,
		(SELECT count(*) FROM findings f WHERE f.torrent_id = t.id AND f.node_id = $1 AND f.state <> 'repaired'),
		(SELECT CASE WHEN bool_and(r.last_verified_at IS NOT NULL) THEN min(r.last_verified_at) END
			FROM verify_ranges r WHERE r.torrent_id = t.id AND r.node_id = $1),
		coalesce(rp.uploaded_bytes, 0), t.added_at
		FROM torrents t JOIN collections c ON c.id = t.collection_id
		LEFT JOIN replicas rp ON rp.torrent_id = t.id AND rp.node_id = $1
		WHERE t.state <> 'removed' ORDER BY c.name, t.name, t.id`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent rows: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TorrentRow, error) {
		var t TorrentRow
		return t, r.Scan(&t.ID, &t.Name, &t.InfoHash, &t.Collection, &t.State, &t.CollectionState, &t.Availability,
			&t.AvailabilityReason, &t.TotalLength, &t.PieceCount, &t.PiecesComplete, &t.OpenFindings, &t.OldestVerified,
			&t.Uploaded, &t.AddedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrent rows: %w", err)
	}
	return out, nil
}
