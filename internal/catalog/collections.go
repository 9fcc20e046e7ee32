package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog/domain"
	"github.com/jackc/pgx/v5"
)

// Collection groups torrents that are kept together.
type Collection struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	DataRoot     string          `json:"data_root"`
	State        TorrentState    `json:"state"`
	Source       string          `json:"source"`
	WebSeeds     []string        `json:"web_seeds"`
	VerifyPolicy json.RawMessage `json:"verify_policy"`
	// ReplicasMin and ReplicasMax: copies (replicas on distinct nodes)
	// each of its torrents should have, unless the torrent overrides them.
	ReplicasMin int       `json:"replicas_min"`
	ReplicasMax int       `json:"replicas_max"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Filled by listing queries.
	Torrents   int   `json:"torrents"`
	TotalBytes int64 `json:"total_bytes"`
}

const collectionCols = `c.id, c.name, c.description, c.data_root, c.state, c.source, c.web_seeds,
	c.verify_policy, c.replicas_min, c.replicas_max, c.created_at, c.updated_at,
	(SELECT count(*) FROM torrents t WHERE t.collection_id = c.id AND t.state <> 'removed'),
	(SELECT coalesce(sum(t.total_length), 0) FROM torrents t WHERE t.collection_id = c.id AND t.state <> 'removed')`

func scanCollection(row pgx.Row) (Collection, error) {
	var c Collection
	err := row.Scan(&c.ID, &c.Name, &c.Description, &c.DataRoot, &c.State, &c.Source, &c.WebSeeds,
		&c.VerifyPolicy, &c.ReplicasMin, &c.ReplicasMax, &c.CreatedAt, &c.UpdatedAt, &c.Torrents, &c.TotalBytes)
	return c, err
}

// ErrInvalidName is returned for a collection name the catalog refuses.
var ErrInvalidName = errors.New("invalid collection name")

// CreateCollection inserts c (Name, Description, DataRoot, Source, WebSeeds,
// VerifyPolicy, ReplicasMin and ReplicasMax (0 = 1; max at least min) are used) and returns the stored row.
func (db *DB) CreateCollection(ctx context.Context, c Collection) (Collection, error) {
	if !domain.ValidCollectionName(c.Name) {
		return Collection{}, fmt.Errorf("catalog: create collection %q: %w: %s", c.Name, ErrInvalidName, domain.CollectionNameRule)
	}
	if c.Source == "" {
		c.Source = "cli"
	}
	if c.VerifyPolicy == nil {
		c.VerifyPolicy = json.RawMessage("{}")
	}
	if c.WebSeeds == nil {
		c.WebSeeds = []string{}
	}
	c.ReplicasMin, c.ReplicasMax = max(c.ReplicasMin, 1), max(c.ReplicasMax, c.ReplicasMin, 1)
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO collections (name, description, data_root, source, web_seeds, verify_policy,
		replicas_min, replicas_max) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		c.Name, c.Description, c.DataRoot, c.Source, c.WebSeeds, c.VerifyPolicy, c.ReplicasMin, c.ReplicasMax).Scan(&id)
	if isUniqueViolation(err) {
		return Collection{}, fmt.Errorf("catalog: create collection %q: %w", c.Name, ErrExists)
	}
	if err != nil {
		return Collection{}, fmt.Errorf("catalog: create collection %q: %w", c.Name, err)
	}
	return db.Collection(ctx, c.Name)
}

// Collection returns the collection named name.
func (db *DB) Collection(ctx context.Context, name string) (Collection, error) {
	c, err := scanCollection(db.pool.QueryRow(ctx, `SELECT `+collectionCols+` FROM collections c WHERE c.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return Collection{}, fmt.Errorf("catalog: collection %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Collection{}, fmt.Errorf("catalog: read collection %q: %w", name, err)
	}
	return c, nil
}

// Collections lists every collection by name.
func (db *DB) Collections(ctx context.Context) ([]Collection, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+collectionCols+` FROM collections c ORDER BY c.name`)
	if err != nil {
		return nil, fmt.Errorf("catalog: list collections: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Collection, error) { return scanCollection(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: list collections: %w", err)
	}
	return out, nil
}

// UpdateCollection writes Description, DataRoot, WebSeeds, VerifyPolicy and
// Source of the collection named c.Name.
func (db *DB) UpdateCollection(ctx context.Context, c Collection) error {
	if c.VerifyPolicy == nil {
		c.VerifyPolicy = json.RawMessage("{}")
	}
	if c.WebSeeds == nil {
		c.WebSeeds = []string{}
	}
	tag, err := db.pool.Exec(ctx, `UPDATE collections SET description = $2, data_root = $3, web_seeds = $4,
		verify_policy = $5, source = $6, updated_at = now() WHERE name = $1`,
		c.Name, c.Description, c.DataRoot, c.WebSeeds, c.VerifyPolicy, c.Source)
	if err != nil {
		return fmt.Errorf("catalog: update collection %q: %w", c.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("catalog: update collection %q: %w", c.Name, ErrNotFound)
	}
	return nil
}

// SetCollectionState pauses ("paused") or resumes ("active") a collection.
func (db *DB) SetCollectionState(ctx context.Context, name string, state TorrentState) error {
	tag, err := db.pool.Exec(ctx, `UPDATE collections SET state = $2, updated_at = now() WHERE name = $1`, name, state)
	if err != nil {
		return fmt.Errorf("catalog: set collection %q %s: %w", name, state, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("catalog: collection %q: %w", name, ErrNotFound)
	}
	return nil
}

// ErrNotEmpty is returned when removing a collection that still has torrents.
var ErrNotEmpty = errors.New("collection still has torrents")

// DeleteCollection removes an empty collection.
func (db *DB) DeleteCollection(ctx context.Context, name string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		var n int
		err := tx.QueryRow(ctx, `SELECT c.id, (SELECT count(*) FROM torrents t WHERE t.collection_id = c.id)
			FROM collections c WHERE c.name = $1 FOR UPDATE`, name).Scan(&id, &n)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("catalog: collection %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("catalog: remove collection %q: %w", name, err)
		}
		if n > 0 {
			return fmt.Errorf("catalog: remove collection %q: %w (%d): remove them first", name, ErrNotEmpty, n)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM collections WHERE id = $1`, id); err != nil {
			return fmt.Errorf("catalog: remove collection %q: %w", name, err)
		}
		return nil
	})
}

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
