package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// ReplicaPolicy is how many copies (replicas on distinct nodes) a torrent
// should have: the planner places copies up to Min; Max bounds what
// placement may keep. A nil field is left as it is (SetTorrentReplicas:
// Inherit sets both back to the collection's).
type ReplicaPolicy struct {
	Min     *int
	Max     *int
	Inherit bool
}

// ErrBadReplicas is returned (wrapped) for a policy the catalog refuses:
// a count under 1, or a min above the max.
var ErrBadReplicas = errors.New("replicas_min must be at least 1 and at most replicas_max")

func isCheckViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514"
}

// SetCollectionReplicas sets replicas_min and/or replicas_max of the
// collection named name.
func (db *DB) SetCollectionReplicas(ctx context.Context, name string, p ReplicaPolicy) error {
	tag, err := db.pool.Exec(ctx, `UPDATE collections SET replicas_min = coalesce($2, replicas_min),
		replicas_max = coalesce($3, replicas_max), updated_at = now() WHERE name = $1`, name, p.Min, p.Max)
	if isCheckViolation(err) {
		return fmt.Errorf("catalog: set replicas of collection %q: %w", name, ErrBadReplicas)
	}
	if err != nil {
		return fmt.Errorf("catalog: set replicas of collection %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("catalog: collection %q: %w", name, ErrNotFound)
	}
	return nil
}

// SetTorrentReplicas overrides replicas_min and/or replicas_max of torrent
// id (Inherit: back to its collection's).
func (db *DB) SetTorrentReplicas(ctx context.Context, id int64, p ReplicaPolicy) error {
	tag, err := db.pool.Exec(ctx, `UPDATE torrents SET
		replicas_min = CASE WHEN $4 THEN NULL ELSE coalesce($2, replicas_min) END,
		replicas_max = CASE WHEN $4 THEN NULL ELSE coalesce($3, replicas_max) END,
		updated_at = now() WHERE id = $1`, id, p.Min, p.Max, p.Inherit)
	if isCheckViolation(err) {
		return fmt.Errorf("catalog: set replicas of torrent %d: %w", id, ErrBadReplicas)
	}
	if err != nil {
		return fmt.Errorf("catalog: set replicas of torrent %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("catalog: torrent %d: %w", id, ErrNotFound)
	}
	return nil
}

// EffectiveReplicas is a torrent's policy in force: its own override,
// else its collection's (a max below the min counts as the min); Own reports an override.
type EffectiveReplicas struct {
	Min int  `json:"replicas_min"`
	Max int  `json:"replicas_max"`
	Own bool `json:"replicas_own"`
}

// TorrentReplicas reads torrent id's policy in force.
func (db *DB) TorrentReplicas(ctx context.Context, id int64) (EffectiveReplicas, error) {
	var e EffectiveReplicas
	err := db.pool.QueryRow(ctx, `SELECT coalesce(t.replicas_min, c.replicas_min),
		greatest(coalesce(t.replicas_min, c.replicas_min), coalesce(t.replicas_max, c.replicas_max)),
		t.replicas_min IS NOT NULL OR t.replicas_max IS NOT NULL
		FROM torrents t JOIN collections c ON c.id = t.collection_id WHERE t.id = $1`, id).Scan(&e.Min, &e.Max, &e.Own)
	if err != nil {
		return e, fmt.Errorf("catalog: read replicas policy of torrent %d: %w", id, err)
	}
	return e, nil
}
