package catalog

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Torrent is one torrent of the catalog. Metainfo is nil (and the piece
// fields zero) for a magnet whose metadata has not been fetched yet.
type Torrent struct {
	ID           int64    `json:"id"`
	CollectionID int64    `json:"collection_id"`
	Collection   string   `json:"collection"`
	InfoHash     [20]byte `json:"-"`
	InfoHashV2   []byte   `json:"-"`
	Name         string   `json:"name"`
	Magnet       string   `json:"magnet,omitempty"`
	Metainfo     []byte   `json:"-"`
	PieceLength  int64    `json:"piece_length"`
	PieceCount   int      `json:"piece_count"`
	TotalLength  int64    `json:"total_length"`
	// DataDir, Availability*, Uploaded, Downloaded and CompletedAt are
	// the replica of the handle's node (DataDir: the torrent's as added
	// when the node holds no replica).
	DataDir            string            `json:"data_dir"`
	State              TorrentState      `json:"state"`
	Availability       Availability      `json:"availability"`
	AvailabilityCause  AvailabilityCause `json:"availability_cause,omitempty"`
	AvailabilityReason string            `json:"availability_reason,omitempty"`
	Trackers           []string          `json:"trackers"`
	WebSeeds           []string          `json:"web_seeds"`
	Source             string            `json:"source"`
	Uploaded           int64             `json:"uploaded_bytes"`
	Downloaded         int64             `json:"downloaded_bytes"`
	AddedAt            time.Time         `json:"added_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	CompletedAt        *time.Time        `json:"completed_at,omitempty"`
	// Local: the handle's node holds a replica (the torrent belongs on it).
	Local bool `json:"local"`
	// Node is the node whose replica the fields above describe.
	Node string `json:"node"`
	// CollectionState is the state of the torrent's collection: a torrent
	// runs only when both are active.
	CollectionState TorrentState `json:"collection_state"`
	// Removing: the planner marked this node's replica for removal (a
	// surplus copy, or a draining node's): it no longer runs here, and the
	// node deletes it (see RemovingReplicas).
	Removing bool `json:"removing,omitempty"`
	// Placed: the handle's node's replica was placed by the fleet planner
	// (fetched from the other nodes; fleet.recovery_rate bounds its writes).
	Placed bool `json:"placed,omitempty"`
}

// HexHash is the infohash as 40 lowercase hex digits.
func (t Torrent) HexHash() string { return hex.EncodeToString(t.InfoHash[:]) }

// HasMetainfo reports whether the torrent's metadata is known.
func (t Torrent) HasMetainfo() bool { return t.Metainfo != nil }

const torrentCols = `t.id, t.collection_id, c.name, t.infohash, t.infohash_v2, t.name, coalesce(t.magnet, ''),
	t.metainfo, coalesce(t.piece_length, 0), coalesce(t.piece_count, 0), coalesce(t.total_length, 0),
	coalesce(r.data_dir, t.data_dir), t.state, coalesce(r.availability, 'ok'), coalesce(r.availability_cause, ''),
	coalesce(r.availability_reason, ''), t.trackers, t.web_seeds, t.source,
	coalesce(r.uploaded_bytes, 0), coalesce(r.downloaded_bytes, 0), t.added_at, greatest(t.updated_at, r.updated_at),
	r.completed_at, r.node_id IS NOT NULL, c.state, r.remove_at IS NOT NULL,
	coalesce(r.placed_by, '') <> ''`

// torrentFrom joins this node's replica; the node is parameter $n.
func torrentFrom(n int) string {
	return fmt.Sprintf(` FROM torrents t JOIN collections c ON c.id = t.collection_id
	LEFT JOIN replicas r ON r.torrent_id = t.id AND r.node_id = $%d`, n)
}

func scanTorrent(row pgx.Row) (Torrent, error) {
	var t Torrent
	var ih []byte
	err := row.Scan(&t.ID, &t.CollectionID, &t.Collection, &ih, &t.InfoHashV2, &t.Name, &t.Magnet,
		&t.Metainfo, &t.PieceLength, &t.PieceCount, &t.TotalLength,
		&t.DataDir, &t.State, &t.Availability, &t.AvailabilityCause, &t.AvailabilityReason, &t.Trackers, &t.WebSeeds, &t.Source,
		&t.Uploaded, &t.Downloaded, &t.AddedAt, &t.UpdatedAt, &t.CompletedAt, &t.Local, &t.CollectionState, &t.Removing,
		&t.Placed)
	copy(t.InfoHash[:], ih)
	return t, err
}

// NewTorrent is what AddTorrent stores.
type NewTorrent struct {
	Collection  string
	InfoHash    [20]byte
	InfoHashV2  []byte
	Name        string
	Magnet      string
	Metainfo    []byte // nil for a magnet without metadata
	PieceLength int64
	PieceCount  int
	TotalLength int64
	DataDir     string
	Trackers    []string
	WebSeeds    []string
	Source      string
	Files       []File
	// Verified marks every piece complete: the caller has just hashed the
	// data where it lies (torrent creation), so serve need not hash it again.
	Verified bool
	// AlsoOn: other nodes holding a copy too, with the same data directory
	// and piece state (AddTorrents only: bulk loads of a synthetic fleet).
	AlsoOn []string
}

// AddTorrent stores a new torrent and its files in one transaction.
func (db *DB) AddTorrent(ctx context.Context, n NewTorrent) (Torrent, error) {
	if n.Source == "" {
		n.Source = "cli"
	}
	if n.Trackers == nil {
		n.Trackers = []string{}
	}
	if n.WebSeeds == nil {
		n.WebSeeds = []string{}
	}
	hexHash := hex.EncodeToString(n.InfoHash[:])
	var id int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var collID int64
		err := tx.QueryRow(ctx, `SELECT id FROM collections WHERE name = $1`, n.Collection).Scan(&collID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("collection %q: %w", n.Collection, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var pl, total *int64
		var pc *int
		if n.Metainfo != nil {
			pl, pc, total = &n.PieceLength, &n.PieceCount, &n.TotalLength
		}
		var magnet *string
		if n.Magnet != "" {
			magnet = &n.Magnet
		}
		err = tx.QueryRow(ctx, `INSERT INTO torrents (collection_id, infohash, infohash_v2, name, magnet, metainfo,
			piece_length, piece_count, total_length, data_dir, trackers, web_seeds, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			collID, n.InfoHash[:], n.InfoHashV2, n.Name, magnet, n.Metainfo, pl, pc, total,
			n.DataDir, n.Trackers, n.WebSeeds, n.Source).Scan(&id)
		if isUniqueViolation(err) {
			if strings.Contains(err.Error(), "data_dir") {
				return fmt.Errorf("data directory %s is already used by another torrent: %w", n.DataDir, ErrExists)
			}
			return fmt.Errorf("infohash %s: %w", hexHash, ErrExists)
		}
		if err != nil {
			return err
		}
		if err := insertFiles(ctx, tx, id, n.Files); err != nil {
			return err
		}
		if err := insertReplica(ctx, tx, id, db.NodeID(), n.DataDir); err != nil {
			return err
		}
		if n.Verified && n.Metainfo != nil {
			if err := writeAllComplete(ctx, tx, id, db.NodeID(), n.PieceCount); err != nil {
				return err
			}
			return syncCompletion(ctx, tx, db.NodeID(), []int64{id})
		}
		return nil
	})
	if err != nil {
		return Torrent{}, fmt.Errorf("catalog: add torrent %s: %w", hexHash, err)
	}
	return db.TorrentByID(ctx, id)
}

// SetMetainfo stores the metadata fetched for a magnet, with its files.
func (db *DB) SetMetainfo(ctx context.Context, id int64, name string, metainfo []byte, pieceLength int64, pieceCount int, total int64, files []File) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE torrents SET metainfo = $2, name = $3, piece_length = $4, piece_count = $5,
			total_length = $6, updated_at = now() WHERE id = $1 AND metainfo IS NULL`, id, metainfo, name, pieceLength, pieceCount, total)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // already known
		}
		return insertFiles(ctx, tx, id, files)
	})
	if err != nil {
		return fmt.Errorf("catalog: store metainfo of torrent %d: %w", id, err)
	}
	return nil
}

// TorrentByID returns one torrent.
func (db *DB) TorrentByID(ctx context.Context, id int64) (Torrent, error) {
	t, err := scanTorrent(db.pool.QueryRow(ctx, `SELECT `+torrentCols+torrentFrom(2)+` WHERE t.id = $1`, id, db.NodeID()))
	t.Node = db.NodeID()
	if errors.Is(err, pgx.ErrNoRows) {
		return Torrent{}, fmt.Errorf("catalog: torrent %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Torrent{}, fmt.Errorf("catalog: read torrent %d: %w", id, err)
	}
	return t, nil
}

// TorrentByRef finds a torrent by infohash (40 hex digits, or a unique
// prefix of at least 8) or by name (which must be unique).
func (db *DB) TorrentByRef(ctx context.Context, ref string) (Torrent, error) {
	q := `SELECT ` + torrentCols + torrentFrom(2) + ` WHERE t.state <> 'removed' AND (t.name = $1`
	args := []any{ref, db.NodeID()}
	if isHexPrefix(ref) {
		q += ` OR encode(t.infohash, 'hex') LIKE $3`
		args = append(args, strings.ToLower(ref)+"%")
	}
	rows, err := db.pool.Query(ctx, q+`) LIMIT 2`, args...)
	if err != nil {
		return Torrent{}, fmt.Errorf("catalog: find torrent %q: %w", ref, err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Torrent, error) { return scanTorrent(r) })
	if err != nil {
		return Torrent{}, fmt.Errorf("catalog: find torrent %q: %w", ref, err)
	}
	switch len(ts) {
	case 0:
		if len(ref) < 8 && isHex(ref) {
			return Torrent{}, fmt.Errorf("catalog: torrent %q: %w: no torrent has this name, and an infohash prefix needs at least 8 hex digits", ref, ErrNotFound)
		}
		return Torrent{}, fmt.Errorf("catalog: torrent %q: %w", ref, ErrNotFound)
	case 1:
		ts[0].Node = db.NodeID()
		return ts[0], nil
	default:
		return Torrent{}, fmt.Errorf("catalog: torrent %q is ambiguous: name it by its full infohash", ref)
	}
}

func isHexPrefix(s string) bool {
	return len(s) >= 8 && len(s) <= 40 && isHex(s)
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return s != ""
}

// TorrentFilter narrows Torrents. Zero values match everything but removed.
type TorrentFilter struct {
	Collection string
	// Runnable: only torrents that should run in this node's engine
	// (torrent and collection active, a replica on this node with its data
	// directory chosen, not marked for removal).
	Runnable bool
	// Local: only torrents with a replica on this node.
	Local bool
	// Unavailable: only those whose replica on this node is unavailable.
	Unavailable bool
}

// Torrents lists torrents ordered by collection and name.
func (db *DB) Torrents(ctx context.Context, f TorrentFilter) ([]Torrent, error) {
	q := `SELECT ` + torrentCols + torrentFrom(1) + ` WHERE t.state <> 'removed'`
	args := []any{db.NodeID()}
	if f.Collection != "" {
		args = append(args, f.Collection)
		q += fmt.Sprintf(` AND c.name = $%d`, len(args))
	}
	if f.Runnable {
		// A replica placed by the planner runs once its node chose its data directory.
		// A replica marked for removal does not run.
		q += ` AND t.state = 'active' AND c.state = 'active' AND r.data_dir <> '' AND r.remove_at IS NULL`
	}
	if f.Runnable || f.Local {
		q += ` AND r.node_id IS NOT NULL`
	}
	if f.Unavailable {
		q += ` AND r.availability = 'unavailable'`
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY c.name, t.name, t.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrents: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Torrent, error) { return scanTorrent(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list torrents: %w", err)
	}
	for i := range ts {
		ts[i].Node = db.NodeID()
	}
	return ts, nil
}

// SetTorrentState sets state (TorrentActive, TorrentPaused) of a torrent.
func (db *DB) SetTorrentState(ctx context.Context, id int64, state TorrentState) error {
	if _, err := db.pool.Exec(ctx, `UPDATE torrents SET state = $2, updated_at = now() WHERE id = $1`, id, state); err != nil {
		return fmt.Errorf("catalog: set torrent %d %s: %w", id, state, err)
	}
	return nil
}

// DeleteTorrent removes a torrent and everything recorded about it.
func (db *DB) DeleteTorrent(ctx context.Context, id int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM torrents WHERE id = $1`, id); err != nil {
		return fmt.Errorf("catalog: remove torrent %d: %w", id, err)
	}
	return nil
}

// Transfer is a delta of the transfer totals of this node's replica of a torrent.
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
	if _, err := db.pool.Exec(ctx, `UPDATE replicas r SET uploaded_bytes = r.uploaded_bytes + d.up,
		downloaded_bytes = r.downloaded_bytes + d.down
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS d(id, up, down) WHERE r.torrent_id = d.id AND r.node_id = $4`,
		ids, ups, downs, db.NodeID()); err != nil {
		return fmt.Errorf("catalog: add transfer totals of %d torrents: %w", len(ts), err)
	}
	return nil
}

// ExistingTorrents reports which of ids still exist (the seeder's store
// drops piece states of torrents deleted while they waited for a commit).
func (db *DB) ExistingTorrents(ctx context.Context, ids []int64) (map[int64]bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM torrents WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: look up torrents: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]bool, len(ids))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("catalog: look up torrents: %w", err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: look up torrents: %w", err)
	}
	return out, nil
}

// TorrentTotals counts the torrents not removed and their bytes.
func (db *DB) TorrentTotals(ctx context.Context) (n, bytes int64, err error) {
	err = db.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(total_length), 0)::bigint FROM torrents WHERE state <> 'removed'`).Scan(&n, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("catalog: count torrents: %w", err)
	}
	return n, bytes, nil
}
